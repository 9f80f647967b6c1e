package inventory

import (
	"strings"
	"testing"
)

// machineDoc is a valid three-host inventory with extra cluster fields
// (cluster), per-host fields (one string per host, appended to its
// mapping) and extra top-level sections (tail).
func machineDoc(cluster string, hostExtra [3]string, tail string) string {
	doc := `
		cluster:
		  name: c1
		  os: OS
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		` + cluster + `
		hosts:
		  - {name: m0, ip: 192.168.1.11` + hostExtra[0] + `}
		  - {name: m1, ip: 192.168.1.12` + hostExtra[1] + `}
		  - {name: m2, ip: 192.168.1.13` + hostExtra[2] + `}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		` + tail
	return doc
}

func fcosDoc(cluster string, h [3]string, tail string) string {
	return strings.Replace(machineDoc(cluster, h, tail), "os: OS", "os: fcos", 1)
}

func flatcarDoc(cluster string, h [3]string, tail string) string {
	return strings.Replace(machineDoc(cluster, h, tail), "os: OS", "os: flatcar", 1)
}

func TestValidateMachine(t *testing.T) {
	none := [3]string{}
	runCases(t, []diagCase{
		{name: "defaults", yaml: fcosDoc("", none, "")},
		{name: "every machine field", yaml: fcosDoc(`  installDisk: /dev/disk/by-id/wwn-0x5000c500a0b1c2d3
		  network: {prefixLength: 24, gateway: 192.168.1.1, dns: [192.168.1.2]}
		  updates: {strategy: windows, window: {days: [Sat, Sun], start: "22:00", length: 1h}}`,
			[3]string{", installDisk: /dev/vda", ", network: {address: 192.168.1.12/24, dns: [192.168.1.3]}", `, updateWindow: {days: [Mon], start: "04:00"}`},
			"delivery: {boot: install}")},
		{name: "relative install disk", yaml: fcosDoc("  installDisk: sda", [3]string{"", ", installDisk: disk/by-id/x", ""}, ""),
			want: []string{
				`hosts.yaml:8:16: cluster.installDisk: "sda" is not an absolute device path; name the disk as /dev/disk/by-id/..., /dev/disk/by-path/... or /dev/sda$`,
				`hosts.yaml:11:47: hosts[1].installDisk: "disk/by-id/x" is not an absolute device path`,
			}},
		{name: "install disk outside /dev", yaml: fcosDoc("  installDisk: /tmp/disk.img", none, ""),
			want: []string{`hosts.yaml:8:16: cluster.installDisk: "/tmp/disk.img" is not a device path below /dev`}},
		{name: "unknown boot", yaml: fcosDoc("", none, "delivery: {boot: ram}"),
			want: []string{`hosts.yaml:14:18: delivery.boot: "ram" is not one of install, live`}},
		{name: "gateway outside the subnet", yaml: fcosDoc("  network: {prefixLength: 24, gateway: 192.168.2.1, dns: [192.168.1.2]}", none, ""),
			want: []string{
				`hosts.yaml:10:20: hosts[0].ip: gateway 192.168.2.1 is outside host m0's subnet 192.168.1.0/24: the host could not reach it$`,
				`hosts.yaml:11:20: hosts[1].ip: gateway 192.168.2.1 is outside host m1's subnet 192.168.1.0/24`,
				`hosts.yaml:12:20: hosts[2].ip: gateway 192.168.2.1 is outside host m2's subnet 192.168.1.0/24`,
			}},
		{name: "host gateway outside its subnet", yaml: fcosDoc("", [3]string{"", ", network: {address: 192.168.1.12/28, gateway: 192.168.1.100, dns: [192.168.1.2]}", ""}, ""),
			want: []string{`hosts.yaml:11:79: hosts[1].network.gateway: gateway 192.168.1.100 is outside host m1's subnet 192.168.1.0/28`}},
		{name: "static address is not the host's ip", yaml: fcosDoc("", [3]string{"", ", network: {address: 192.168.1.99/24}", ""}, ""),
			want: []string{`hosts.yaml:11:53: hosts[1].network.address: 192.168.1.99 is not the host's address hosts[1].ip 192.168.1.12 (line 11): every certificate names hosts[1].ip, so the static address must be that one$`}},
		{name: "static address without a prefix", yaml: fcosDoc("", [3]string{", network: {address: 192.168.1.11}", "", ""}, ""),
			want: []string{`hosts.yaml:10:53: hosts[0].network.address: "192.168.1.11" is not an IPv4 address with its prefix length (e.g. 192.168.1.11/24)`}},
		{name: "gateway without static addressing", yaml: fcosDoc("  network: {gateway: 192.168.1.1}", none, ""),
			want: []string{`hosts.yaml:8:12: cluster.network: gateway and dns apply to hosts with static addressing: set cluster.network.prefixLength, or hosts[0].network.address for host m0$`}},
		{name: "host addresses with the cluster's gateway", yaml: fcosDoc("  network: {gateway: 192.168.1.1, dns: [192.168.1.2]}",
			[3]string{", network: {address: 192.168.1.11/24}", ", network: {address: 192.168.1.12/24}", ", network: {address: 192.168.1.13/24}"}, "")},
		{name: "static without name servers", yaml: fcosDoc("  network: {prefixLength: 24}", [3]string{"", ", network: {dns: [192.168.1.2]}", ", network: {dns: [192.168.1.2]}"}, ""),
			want: []string{`hosts.yaml:10:5: warning: hosts[0].network: host m0 has a static address but no name servers`}},
		{name: "VIP outside the hosts' subnet", yaml: fcosDoc("  network: {prefixLength: 28, dns: [192.168.1.2]}", [3]string{"", "", ", network: {address: 192.168.1.13/30}"}, ""),
			want: []string{`hosts.yaml:7:20: warning: cluster.apiServer.vip: the VIP 192.168.1.10 is outside host m2's subnet 192.168.1.12/30`}},
		{name: "more hosts than derived windows", yaml: strings.Replace(hostsDoc(manyHosts(25)...), "interface: eth0", "interface: eth0\n\t\t  updates: {window: {length: 30m}}", 1),
			want: []string{`hosts.yaml:6:21: cluster.updates.window: 25 hosts take the derived update windows (every day 02:00 UTC for 30m, each followed by a gap as long), which hold 24: set a shorter`}},
		{name: "derived weekly windows move to the next day", yaml: fcosDoc(`  updates: {window: {days: [Sat], start: "23:30", length: 30m}}`, none, "")},
		{name: "weekdays are spelt as Zincati does", yaml: fcosDoc(`  updates: {window: {days: [sat]}}`, none, ""),
			want: []string{`hosts.yaml:8:29: cluster.updates.window.days[0]: "sat" is not a weekday (one of Mon, Tue, Wed, Thu, Fri, Sat, Sun) (did you mean "Sat"?)`}},
		{name: "overlapping windows", yaml: fcosDoc("", [3]string{`, updateWindow: {start: "03:00", length: 1h}`, `, updateWindow: {start: "06:00"}`, `, updateWindow: {start: "03:30"}`}, ""),
			want: []string{`hosts.yaml:12:48: hosts[2].updateWindow: host m2's update window (every day 03:30 UTC for 30m) overlaps host m0's (every day 03:00 UTC for 60m): two masters could reboot at once and etcd would lose quorum; windows need 15m between them$`}},
		{name: "a derived window meets a chosen one", yaml: fcosDoc("", [3]string{"", "", `, updateWindow: {start: "03:10"}`}, ""),
			want: []string{`hosts.yaml:12:48: hosts[2].updateWindow: host m2's update window (every day 03:10 UTC for 30m) overlaps host m1's (every day 03:00 UTC for 30m)`}},
		{name: "windows too close", yaml: fcosDoc("", [3]string{"", `, updateWindow: {start: "02:40"}`, ""}, ""),
			want: []string{`hosts.yaml:11:48: hosts[1].updateWindow: host m1's update window (every day 02:40 UTC for 30m) is only 10m away from host m0's (every day 02:00 UTC for 30m)`}},
		{name: "windows overlap across midnight", yaml: fcosDoc(`  updates: {window: {days: [Sun], start: "23:00", length: 2h}}`, [3]string{"", `, updateWindow: {days: [Mon], start: "00:30"}`, `, updateWindow: {days: [Wed]}`}, ""),
			want: []string{`hosts.yaml:11:48: hosts[1].updateWindow: host m1's update window (Mon 00:30 UTC for 120m) overlaps host m0's (Sun 23:00 UTC for 120m)`}},
		{name: "bad window fields", yaml: fcosDoc(`  updates: {window: {days: [Sunday, Sun], start: "25:00", length: 5m}}`, none, ""),
			want: []string{
				`hosts.yaml:8:29: cluster.updates.window.days[0]: "Sunday" is not a weekday (one of Mon, Tue, Wed, Thu, Fri, Sat, Sun)`,
				`hosts.yaml:8:50: cluster.updates.window.start: "25:00" is not a time of day HH:MM`,
				`hosts.yaml:8:67: cluster.updates.window.length: 5m0s: a window is whole minutes, from 15m to 12h$`,
			}},
		{name: "unknown strategy", yaml: fcosDoc(`  updates: {strategy: immediate}`, none, ""),
			want: []string{`hosts.yaml:8:23: cluster.updates.strategy: "immediate" is not one of windows, off`}},
		{name: "off needs no windows", yaml: fcosDoc(`  updates: {strategy: off}`, [3]string{`, updateWindow: {start: "03:00"}`, "", `, updateWindow: {start: "03:00"}`}, "")},
		{name: "flatcar's first boot takes DHCP", yaml: flatcarDoc("  network: {prefixLength: 24, dns: [192.168.1.2]}", none, ""),
			want: []string{`hosts.yaml:10:5: warning: hosts[0].network: on Flatcar the static address applies once Ignition has run: the first boot from disk downloads its files over DHCP`}},
		{name: "flatcar takes one weekday", yaml: flatcarDoc(`  updates: {window: {days: [Sat, Sun]}}`, none, ""),
			want: []string{`hosts.yaml:8:28: cluster.updates.window.days: Flatcar Container Linux's reboot manager takes one weekday or every day, not Sat,Sun$`}},
		{name: "flatcar mirror must end in the version", yaml: flatcarDoc("", none, `images: {version: 4593.2.2, mirror: "https://mirror.example/flatcar"}`),
			want: []string{`hosts.yaml:14:37: images.mirror: "https://mirror.example/flatcar" must end in /4593.2.2: flatcar-install`}},
		{name: "a release with an old containerd", yaml: fcosDoc("", none, `images: {version: 39.20231204.3.3}`),
			want: []string{`hosts.yaml:14:19: images.version: fcos 39.20231204.3.3 ships containerd 1.6.23 (coreos/fedora-coreos-config#2759 (containerd-1.6.23-2.fc39)); kign's containerd config needs 2.1 or newer`}},
		{name: "flatcar mirror with the version", yaml: flatcarDoc("", none, `images: {version: 4593.2.2, mirror: "https://mirror.example/flatcar/4593.2.2"}`)},
	})
}

// A derived window that passes midnight moves to the next weekday.
func TestUpdateSlotsMoveThroughTheWeek(t *testing.T) {
	inv, rep := Parse("hosts.yaml", []byte(dedent(fcosDoc(`  updates: {window: {days: [Sat], start: "23:30", length: 30m}}`, [3]string{}, ""))))
	if rep.HasErrors() {
		t.Fatal(rep)
	}
	slots, ok := UpdateSlots(inv)
	var got []string
	for _, s := range slots {
		got = append(got, s.String())
	}
	want := []string{"Sat 23:30 UTC for 30m", "Sun 00:30 UTC for 30m", "Sun 01:30 UTC for 30m"}
	if !ok || strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("slots %v, want %v", got, want)
	}
}
