package inventory

import (
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/diag"
)

// dedent removes the first newline of a raw string literal and the leading
// whitespace common to its non-blank lines, so YAML can be indented with
// the Go code around it (YAML's own indentation must be spaces).
func dedent(s string) string {
	s = strings.TrimPrefix(s, "\n")
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first || strings.HasPrefix(prefix, ws) {
			prefix, first = ws, false
		}
		for !strings.HasPrefix(l, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
		if strings.TrimSpace(lines[i]) == "" {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

func TestDedent(t *testing.T) {
	got := dedent("\n\t\ta:\n\t\t  b: 1\n\n\t\tc: 2\n\t")
	if want := "a:\n  b: 1\n\nc: 2\n"; got != want {
		t.Fatalf("dedent = %q, want %q", got, want)
	}
}

// diagCase is one inventory and the diagnostics it must produce.
type diagCase struct {
	name string
	yaml string // dedented before parsing, file name hosts.yaml
	// want lists every diagnostic, in order, each as the start of its
	// String(): "hosts.yaml:LINE:COL: PATH: message start", or the whole
	// of it when the want ends in "$".
	want []string
}

func runCases(t *testing.T, cases []diagCase) {
	t.Helper()
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			_, rep := Parse("hosts.yaml", []byte(dedent(tc.yaml)))
			assertDiagnostics(t, rep, tc.want)
		})
	}
}

// assertDiagnostics checks that rep holds exactly the wanted diagnostics in
// order; each want must be a prefix of the diagnostic's String(), or equal
// to it when the want ends in "$".
func assertDiagnostics(t *testing.T, rep diag.Report, want []string) {
	t.Helper()
	ok := len(rep.Diagnostics) == len(want)
	for i := 0; ok && i < len(want); i++ {
		got := rep.Diagnostics[i].String()
		if exact, ok2 := strings.CutSuffix(want[i], "$"); ok2 {
			ok = got == exact
		} else {
			ok = strings.HasPrefix(got, want[i])
		}
	}
	if !ok {
		t.Errorf("diagnostics:\n%s\nwant (prefixes):\n%s", indent(rep.String()), indent(strings.Join(want, "\n")))
	}
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "\t(none)"
	}
	return "\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// withCluster is a valid one-host inventory whose line 7, inside cluster:,
// is line (written without indentation).
func withCluster(line string) string {
	return `
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		  ` + line + `
		hosts:
		  - {name: m0, ip: 192.168.1.11}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		`
}

// withAPIServer is a valid one-host inventory whose line 6 is
// `  apiServer: {vip: 192.168.1.10, FIELDS}`; FIELDS start at column 34.
func withAPIServer(fields string) string {
	return `
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10, ` + fields + `}
		hosts:
		  - {name: m0, ip: 192.168.1.11}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		`
}

// netDoc is a valid one-host inventory but for its addresses: the service
// CIDR at 3:16, the pod CIDR at 4:12, the VIP at 6:20, extra (a cluster
// field, or "" for none) on line 7 and the host's address at 9:20.
func netDoc(svc, pod, vip, extra, ip string) string {
	if extra == "" {
		extra = "# nothing else"
	}
	return `
		cluster:
		  name: c1
		  serviceCIDR: "` + svc + `"
		  podCIDR: "` + pod + `"
		  interface: eth0
		  apiServer: {vip: "` + vip + `"}
		  ` + extra + `
		hosts:
		  - {name: m0, ip: "` + ip + `"}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		`
}

// topDoc is a valid one-host inventory whose line 10 is line, a top-level
// field such as `pki: {keyAlgorithm: ecdsa}`.
func topDoc(line string) string {
	return `
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		hosts:
		  - {name: m0, ip: 192.168.1.11}
		artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
		` + line + `
		`
}

// artifactsDoc is a valid one-host inventory but for its artifacts:
// section, which starts on line 9; its fields are lines 10 on, indented
// by two spaces.
func artifactsDoc(fields ...string) string {
	return `
		cluster:
		  name: c1
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  interface: eth0
		  apiServer: {vip: 192.168.1.10}
		hosts:
		  - {name: m0, ip: 192.168.1.11}
		artifacts:
		  ` + strings.Join(fields, "\n\t\t  ") + `
		`
}
