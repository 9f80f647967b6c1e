package inventory

import (
	"fmt"
	"strings"
	"testing"
)

// hostsDoc is a valid inventory but for its hosts: hosts[i] is the flow
// mapping hosts[i] on line 8+i, after "  - ", so its mapping starts at
// column 5 and a first key "name" has its value at column 12.
func hostsDoc(hosts ...string) string {
	return `
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		hosts:
		  - ` + strings.Join(hosts, "\n\t\t  - ") + `
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		`
}

func TestValidateHosts(t *testing.T) {
	runCases(t, []diagCase{
		{name: "three hosts with every field", yaml: hostsDoc(
			`{name: m0, ip: 192.168.1.11, interface: eno1, mac: "52:54:00:12:34:56", overlays: [m0.bu]}`,
			`{name: m1, ip: 192.168.1.12, mac: "52:54:00:AB:CD:EF", overlays: [/etc/kign/common.bu]}`,
			`{name: m2, ip: 192.168.1.13}`)},
		{name: "no hosts", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts: []
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:7:8: hosts: no hosts: list at least one control-plane host (e.g. hosts: [{name: master0, ip: 192.168.1.11}])$`}},
		{name: "too many hosts", yaml: hostsDoc(manyHosts(200)...),
			want: []string{`hosts.yaml:8:3: hosts: 200 hosts, at most 199 (keepalived priorities count down from 200 and must stay above 0)$`}},
		// The derived update windows (30 minutes, then 30 apart) hold 24
		// hosts a day: so many masters need their own windows or none.
		{name: "the most hosts", yaml: strings.Replace(hostsDoc(manyHosts(199)...), "interface: eth0", "interface: eth0\n\t\t  updates: {strategy: off}", 1)},
		{name: "even number of hosts", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11}`, `{name: m1, ip: 192.168.1.12}`),
			want: []string{`hosts.yaml:8:3: warning: hosts: etcd quorum gains nothing from an even member count: 2 hosts tolerate the same failures as 1$`}},
		{name: "no interface", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11, interface: eno1}
			  - {name: m1, ip: 192.168.1.12}
			  - {name: m2, ip: 192.168.1.13, interface: eno1}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:8:5: hosts[1].interface: no network interface: set hosts[1].interface, or cluster.interface for every host$`}},
		{name: "interface alias", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11, interface: "eth0:1"}`),
			want: []string{`hosts.yaml:8:45: hosts[0].interface: interface name "eth0:1" contains ':'`}},
		{name: "MAC with dashes", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11, mac: 52-54-00-12-34-56}`),
			want: []string{`hosts.yaml:8:39: hosts[0].mac: "52-54-00-12-34-56" is not a MAC address (expected six colon-separated hex octets, e.g. 52:54:00:12:34:56)$`}},
		{name: "MAC too short", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11, mac: "52:54:00:12:34"}`),
			want: []string{`hosts.yaml:8:39: hosts[0].mac: "52:54:00:12:34" is not a MAC address`}},
		{name: "duplicate name", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11}`, `{name: m1, ip: 192.168.1.12}`, `{name: m0, ip: 192.168.1.13}`),
			want: []string{`hosts.yaml:10:12: hosts[2].name: name "m0" is also used by hosts[0] at line 8$`}},
		{name: "duplicate address", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11}`, `{name: m1, ip: 192.168.1.11}`, `{name: m2, ip: 192.168.1.13}`),
			want: []string{`hosts.yaml:9:20: hosts[1].ip: address 192.168.1.11 is also used by hosts[0] at line 8$`}},
		{name: "duplicate MAC in another case", yaml: hostsDoc(
			`{name: m0, ip: 192.168.1.11, mac: "52:54:00:ab:cd:ef"}`,
			`{name: m1, ip: 192.168.1.12}`,
			`{name: m2, ip: 192.168.1.13, mac: "52:54:00:AB:CD:EF"}`),
			want: []string{`hosts.yaml:10:39: hosts[2].mac: MAC 52:54:00:ab:cd:ef is also used by hosts[0] at line 8$`}},
		{name: "overlay that is not Butane", yaml: hostsDoc(`{name: m0, ip: 192.168.1.11, overlays: [ok.bu, m0.yaml]}`),
			want: []string{`hosts.yaml:8:52: hosts[0].overlays[1]: "m0.yaml" does not name a Butane file (expected a path ending in .bu)$`}},
		{name: "cluster overlay that is a URL", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			overlays: [../common.bu, "https://example.com/x.bu", ""]
			`, want: []string{
			`hosts.yaml:10:26: overlays[1]: "https://example.com/x.bu" is a URL; overlays are local Butane files, relative to hosts.yaml or absolute$`,
			`hosts.yaml:10:54: overlays[2]: overlay path is empty$`,
		}},
	})
}

// A host name becomes a file name and an etcd member name: anything that
// could act as a path must be refused.
func TestValidateHostNames(t *testing.T) {
	var cases []diagCase
	for _, name := range []string{"../x", "a/b", ".", "..", "m.0", "M0", "m_0", "-m0", "m0-", "m 0", strings.Repeat("m", 64)} {
		cases = append(cases, diagCase{
			name: strings.ReplaceAll(fmt.Sprintf("%q", name), " ", "<space>"),
			yaml: hostsDoc(`{name: "` + name + `", ip: 192.168.1.11}`),
			want: []string{fmt.Sprintf(`hosts.yaml:8:12: hosts[0].name: %q is not a DNS-1123 label (`, name)},
		})
	}
	cases = append(cases,
		diagCase{name: "digits and dashes", yaml: hostsDoc(`{name: 0-master-1, ip: 192.168.1.11}`)},
		diagCase{name: "63 characters", yaml: hostsDoc(`{name: ` + strings.Repeat("m", 63) + `, ip: 192.168.1.11}`)},
	)
	runCases(t, cases)
}

// manyHosts lists n hosts for hostsDoc.
func manyHosts(n int) []string {
	var hosts []string
	for i := 0; i < n; i++ {
		hosts = append(hosts, fmt.Sprintf("{name: m%d, ip: 192.168.2.%d}", i, 1+i))
	}
	return hosts
}
