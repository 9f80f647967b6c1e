package inventory

import (
	"os"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kign-project/kign/internal/diag"
)

// FuzzParse checks that Parse never panics, that every diagnostic names
// the file and, unless the YAML itself is unreadable, a line, that reports
// are sorted, and that an inventory accepted without errors validates the
// same way again and survives a round trip through YAML.
//
//	go test -run='^$' -fuzz=FuzzParse ./internal/inventory
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile(seedPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		"",
		"---\n",
		"- a\n",
		"cluster: name: x\n",
		"cluster:\n  name: *nope\n",
		"a: &a [*a]\n",
		withCluster(`maxPods: -1`),
		withCluster(`kubernetesVersion: v1.99.0`),
		withCluster(`keepalived: {virtualRouterID: 0, password: 123456789}`),
		withAPIServer(`port: abc, extraSANs: ["*", "fd00::1", 10.0.0.300]`),
		netDoc("10.99.66.5/23", "10.96.0.0/16", "10.96.0.1", "dnsServiceIP: 10.96.0.0", "10.96.0.2"),
		hostsDoc(`{name: ../x, ip: 192.168.1.11, mac: "aa:bb"}`, `{name: m1, ip: 192.168.1.11}`),
		artifactsDoc(`allowUnverified: [pause]`, `overrides: {kubelt: {sha256: abc}, etcd: {image: "X Y"}}`),
		topDoc(`images: {stream: beta}`),
	} {
		f.Add([]byte(dedent(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, rep := Parse("hosts.yaml", data)
		checkReport(t, rep)
		if inv == nil {
			if !rep.HasErrors() {
				t.Fatalf("no inventory and no error")
			}
			return
		}
		if rep.HasErrors() {
			return
		}
		if again := Validate(inv); again.String() != rep.String() {
			t.Fatalf("Validate after Parse differs:\n%s\nParse said:\n%s", again, rep)
		}
		out, err := yaml.Marshal(inv)
		if err != nil {
			t.Fatalf("marshal an accepted inventory: %v", err)
		}
		inv2, rep2 := Parse("hosts.yaml", out)
		if rep2.HasErrors() {
			t.Fatalf("re-parsing the marshalled inventory:\n%s\n%s", rep2, out)
		}
		if messages(rep2) != messages(rep) {
			t.Fatalf("re-parsing changed the warnings:\n%s\nwas:\n%s", rep2, rep)
		}
		if out2, _ := yaml.Marshal(inv2); string(out2) != string(out) {
			t.Fatalf("round trip is not stable:\n%s\nthen:\n%s", out, out2)
		}
	})
}

func checkReport(t *testing.T, rep diag.Report) {
	t.Helper()
	sorted := sort.SliceIsSorted(rep.Diagnostics, func(i, j int) bool {
		a, b := rep.Diagnostics[i].Pos, rep.Diagnostics[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	if !sorted {
		t.Errorf("report not sorted:\n%s", rep)
	}
	for _, d := range rep.Diagnostics {
		if d.Pos.File != "hosts.yaml" {
			t.Errorf("diagnostic without the file name: %s", d)
		}
		if d.Pos.Line < 1 && !strings.HasPrefix(d.Message, "YAML ") && !strings.Contains(d.Message, "(no line: ") {
			t.Errorf("diagnostic on a parsed document without a line: %s", d)
		}
		if d.Message == "" {
			t.Errorf("diagnostic without a message: %s", d)
		}
	}
}

// messages lists path and message of each diagnostic, without positions.
func messages(rep diag.Report) string {
	var b strings.Builder
	for _, d := range rep.Diagnostics {
		b.WriteString(d.Severity.String() + " " + d.Path + ": " + d.Message + "\n")
	}
	return b.String()
}
