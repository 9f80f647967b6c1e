package inventory

import "testing"

func TestValidateHardeningFields(t *testing.T) {
	runCases(t, []diagCase{
		{name: "audit and pods on masters valid", yaml: withCluster(`audit: {policy: off, maxAgeDays: 1, maxBackups: 1, maxSizeMB: 1}
		  allowPodsOnMasters: true`)},
		{name: "add-ons valid", yaml: withCluster("maxPods: 110") + "addons: [addons/a.yaml, /srv/b.yml]\n"},
		{name: "unknown audit policy", yaml: withCluster(`audit: {policy: full}`),
			want: []string{`hosts.yaml:7:19: cluster.audit.policy: "full" is not one of default, off`}},
		{name: "zero rotation written out", yaml: withCluster(`audit: {maxAgeDays: 0, maxSizeMB: -5}`),
			want: []string{`hosts.yaml:7:23: cluster.audit.maxAgeDays: 0 is not a positive number`, `hosts.yaml:7:37: cluster.audit.maxSizeMB: -5 is not a positive number`}},
		{name: "YAML 1.1 boolean", yaml: withCluster(`allowPodsOnMasters: yes`),
			want: []string{`hosts.yaml:7:23: cluster.allowPodsOnMasters: must be true or false, not "yes"`}},
		{name: "add-on paths", yaml: withCluster("maxPods: 110") + `addons: ["https://x/a.yaml", a.json, "my addon.yaml", "", .yaml]` + "\n",
			want: []string{
				`hosts.yaml:11:10: addons[0]: "https://x/a.yaml" is a URL`,
				`hosts.yaml:11:30: addons[1]: "a.json" does not name a YAML manifest (expected a path ending in .yaml or .yml)`,
				`hosts.yaml:11:38: addons[2]: "my addon.yaml": the file name goes into a shell loop`,
				`hosts.yaml:11:55: addons[3]: add-on path is empty`,
				`hosts.yaml:11:59: addons[4]: ".yaml" does not name a YAML manifest`,
			}},
	})
}
