package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every case below is a complete inventory with exactly the problems named.

func TestParseSyntax(t *testing.T) {
	runCases(t, []diagCase{
		{name: "syntax error reported with its line", yaml: `
			cluster:
			  name: c1
				serviceCIDR: 10.96.0.0/12
			`, want: []string{"hosts.yaml:3:1: YAML syntax error: found a tab character that violates indentation"}},
		{name: "syntax error on the first line", yaml: `
			cluster: name: c1
			`, want: []string{"hosts.yaml:1: YAML syntax error: mapping values are not allowed in this context"}},
		{name: "unknown anchor located", yaml: `
			cluster:
			  name: *nope
			`, want: []string{"hosts.yaml:2:9: YAML syntax error: unknown anchor 'nope' referenced"}},
		{name: "control character located", yaml: "cluster:\n  name: a\x01b\n",
			want: []string{"hosts.yaml:2:10: YAML syntax error: control characters are not allowed"}},
		{name: "empty document", yaml: "",
			want: []string{"hosts.yaml:1:1: the document is empty; expected a mapping with cluster: and hosts:"}},
		{name: "only comments", yaml: "# nothing yet\n",
			want: []string{"hosts.yaml:1:1: the document is empty"}},
		{name: "explicit empty document", yaml: "---\n",
			want: []string{"hosts.yaml:1:1: the document is empty"}},
		{name: "top level is a list", yaml: `
			- cluster: {}
			`, want: []string{"hosts.yaml:1:1: the document must be a mapping with cluster: and hosts:, not a list"}},
		{name: "top level is a string", yaml: `
			hello
			`, want: []string{`hosts.yaml:1:1: the document must be a mapping with cluster: and hosts:, not "hello"`}},
		{name: "second document", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			---
			cluster: {}
			`, want: []string{`hosts.yaml:10:1: a second YAML document starts here; the inventory is exactly one document (remove the "---" separator)`}},
	})
}

func TestParseTypes(t *testing.T) {
	runCases(t, []diagCase{
		{name: "port is not an integer", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10, port: abc}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:6:40: cluster.apiServer.port: must be an integer, not "abc"`}},
		{name: "maxPods is a float", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			  maxPods: 1.5
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:7:12: cluster.maxPods: must be an integer, not "1.5"`}},
		{name: "integer out of range", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			  nodeCIDRMaskSize: 9223372036854775808
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:7:21: cluster.nodeCIDRMaskSize: integer 9223372036854775808 is out of range`}},
		{name: "hosts is a mapping", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts: {}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:7:8: hosts: must be a list, not a mapping`}},
		{name: "a host is a string", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  apiServer: {vip: 192.168.1.10}
			hosts: [m0]
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:6:9: hosts[0]: must be a mapping, not "m0"`}},
		{name: "cluster is a list", yaml: `
			cluster: [c1]
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:1:10: cluster: must be a mapping, not a list`}},
		{name: "name is a mapping", yaml: `
			cluster:
			  name: {first: c1}
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:9: cluster.name: must be a string, not a mapping`}},
		{name: "extraSANs is a string", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10, extraSANs: api.example.com}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:6:45: cluster.apiServer.extraSANs: must be a list, not "api.example.com"`}},
	})
}

func TestParseKeys(t *testing.T) {
	runCases(t, []diagCase{
		{name: "unknown field with a case hint", yaml: `
			cluster:
			  name: c1
			  serviceCidr: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:3:3: cluster.serviceCidr: unknown field "serviceCidr" (did you mean "serviceCIDR"?)`}},
		{name: "unknown top-level field with a spelling hint", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			overlay: [common.bu]
			`, want: []string{`hosts.yaml:10:1: overlay: unknown field "overlay" (did you mean "overlays"?)`}},
		{name: "unknown host field", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11, macAddress: 52:54:00:12:34:56}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:8:34: hosts[0].macAddress: unknown field "macAddress"`}},
		{name: "unknown field without a hint", yaml: `
			cluster:
			  name: c1
			  colour: blue
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:3:3: cluster.colour: unknown field "colour"$`}},
		{name: "duplicate key", yaml: `
			cluster:
			  name: c1
			  name: c2
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:3:3: cluster.name: duplicate key "name" (first at line 2)`}},
		{name: "duplicate override", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts:
			  allowUnverified: [flanneld, flannel-cni-plugin]
			  overrides:
			    kubelet: {url: "https://mirror.example/kubelet"}
			    kubelet: {url: "https://mirror.example/kubelet-2"}
			`, want: []string{`hosts.yaml:13:5: artifacts.overrides.kubelet: duplicate key "kubelet" (first at line 12)`}},
		{name: "merge key", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer:
			    vip: 192.168.1.10
			    <<: {port: 443}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:8:5: cluster.apiServer: merge keys (<<) are not supported; write the fields out`}},
		{name: "key that is a list", yaml: `
			cluster:
			  name: c1
			  [a, b]: c
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:3:3: cluster: a key must be a plain string, not a list`}},
	})
}

func TestAliasesAreFollowed(t *testing.T) {
	inv, rep := Parse("hosts.yaml", []byte(dedent(`
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		hosts:
		  - {name: m0, ip: 192.168.1.11, overlays: &common [common.bu, extra.bu]}
		  - {name: m1, ip: 192.168.1.12, overlays: *common}
		  - {name: m2, ip: 192.168.1.13}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		`)))
	assertDiagnostics(t, rep, nil)
	if got := strings.Join(inv.Hosts[1].Overlays, ","); got != "common.bu,extra.bu" {
		t.Errorf("hosts[1].overlays = %q", got)
	}
	if got := inv.Positions["hosts[1].overlays"].String(); got != "hosts.yaml:9:44" {
		t.Errorf("hosts[1].overlays at %s, want the alias at hosts.yaml:9:44", got)
	}
}

func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &o [" + strings.Repeat("a.bu, ", 2000) + "a.bu]\nhosts:\n")
	for i := 0; i < 300; i++ {
		b.WriteString("  - {overlays: *o}\n")
	}
	_, rep := Parse("hosts.yaml", []byte(b.String()))
	found := false
	for _, d := range rep.Diagnostics {
		found = found || strings.Contains(d.Message, "repeats too much through YAML aliases")
	}
	if !found {
		t.Fatalf("want an aliasing error, got:\n%s", rep)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.yaml")
	inv, rep := Load(path)
	if inv != nil {
		t.Errorf("want no inventory")
	}
	assertDiagnostics(t, rep, []string{path + ": cannot read the inventory: no such file or directory"})
}

func TestLoadSetsFile(t *testing.T) {
	data, err := os.ReadFile(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	inv, rep := Load(path)
	assertDiagnostics(t, rep, nil)
	if inv.File != path || inv.Positions.Of(path, "hosts[2].ip").String() != path+":39:9" {
		t.Errorf("File = %q, hosts[2].ip at %s", inv.File, inv.Positions.Of(path, "hosts[2].ip"))
	}
}
