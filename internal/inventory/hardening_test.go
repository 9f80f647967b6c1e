package inventory

import "testing"

func TestValidateHardeningFields(t *testing.T) {
	base := func(extra, top string) string {
		return `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			` + extra + `
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			` + top
	}
	runCases(t, []diagCase{
		{name: "audit, pods on masters and add-ons valid", yaml: base(`  audit: {policy: off, maxAgeDays: 1, maxBackups: 1, maxSizeMB: 1}
			  allowPodsOnMasters: true`, `addons: [addons/a.yaml, /srv/b.yml]`)},
		{name: "unknown audit policy", yaml: base(`  audit: {policy: full}`, ""),
			want: []string{`hosts.yaml:7:19: cluster.audit.policy: "full" is not one of default, off`}},
		{name: "zero rotation written out", yaml: base(`  audit: {maxAgeDays: 0, maxSizeMB: -5}`, ""),
			want: []string{`hosts.yaml:7:23: cluster.audit.maxAgeDays: 0 is not a positive number`, `hosts.yaml:7:37: cluster.audit.maxSizeMB: -5 is not a positive number`}},
		{name: "YAML 1.1 boolean", yaml: base(`  allowPodsOnMasters: yes`, ""),
			want: []string{`hosts.yaml:7:23: cluster.allowPodsOnMasters: must be true or false, not "yes"`}},
		{name: "add-on paths", yaml: base("", `addons: ["https://x/a.yaml", a.json, "my addon.yaml", ""]`),
			want: []string{
				`hosts.yaml:11:10: addons[0]: "https://x/a.yaml" is a URL`,
				`hosts.yaml:11:30: addons[1]: "a.json" does not name a YAML manifest`,
				`hosts.yaml:11:38: addons[2]: "my addon.yaml": the file name goes into a shell loop`,
				`hosts.yaml:11:55: addons[3]: add-on path is empty`,
			}},
	})
}
