package cli

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func kign(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestConventions(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		code      int
		stdoutHas string
		stderrHas string
	}{
		{[]string{"--help"}, ExitOK, "Commands:", ""},
		{[]string{"gen", "--help"}, ExitOK, "--hosts", ""},
		{[]string{"version"}, ExitOK, "kign ", ""},
		{nil, ExitUsage, "", "missing command"},
		{[]string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
		{[]string{"gen", "--no-such-flag"}, ExitUsage, "", "unknown flag: --no-such-flag"},
		{[]string{"gen"}, ExitUsage, "", "--hosts is required"},
		{[]string{"validate", "--hosts", "x.yaml", "extra"}, ExitUsage, "", `unexpected argument "extra"`},
		{[]string{"validate", "--hosts", "/nonexistent/hosts.yaml"}, ExitFailure, "", "/nonexistent/hosts.yaml"},
		{[]string{"validate", "--hosts", "../../examples/seed/hosts.yaml"}, ExitOK, "etcd initial cluster:   master0=https://10.22.108.20:2380,master1=https://10.22.108.79:2380,master2=https://10.22.108.92:2380", ""},
		{[]string{"artifacts", "--hosts", "../../examples/seed/hosts.yaml", "--urls"}, ExitOK, "https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet", ""},
		{[]string{"artifacts", "--hosts", "../../examples/five/hosts.yaml", "--images"}, ExitOK, "registry.five.example.internal/kube-apiserver:v1.35.8", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := kign(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdoutHas) || !strings.Contains(stderr, tc.stderrHas) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
		})
	}
}

// A bad inventory: every problem reported with file:line:col, exit 1, and
// nothing written, neither output nor PKI.
func TestGenBadInventoryWritesNothing(t *testing.T) {
	genRefuses(t, `cluster:
  name: bad
  serviceCidr: 10.99.66.0/23
  podCIDR: 10.20.0.0/16
  interface: eth0
  apiServer:
    vip: 10.22.108.20
hosts:
  - name: ../x
    ip: 10.22.108.20
`, ":3:3: cluster.serviceCidr: unknown field", ":9:11: hosts[0].name: \"../x\" is not a DNS-1123 label", "5 errors, nothing written")
}

// genRefuses runs kign gen on the inventory bad and checks that it exits 1,
// that stderr holds every want (those starting with ":" follow the
// inventory's path), and that nothing was written beside the inventory.
func genRefuses(t *testing.T, bad string, wants ...string) {
	t.Helper()
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(hosts, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", filepath.Join(dir, "out"))
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range wants {
		if strings.HasPrefix(want, ":") {
			want = hosts + want
		}
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("bad inventory left files behind: %v", entries)
	}
}

// gen writes 0600 files in a 0700 folder; a second run reuses every
// certificate and rewrites nothing.
func TestGenRerun(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/five/hosts.yaml")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", out, "--now", "2026-11-01T12:00:00Z")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "[pki] issued etcd-peer for cp-e") || !strings.Contains(stdout, "[out] wrote "+filepath.Join(out, "cp-a.ign")) {
		t.Errorf("first run output:\n%s", stdout)
	}
	if !strings.Contains(stderr, "warning: flanneld is downloaded WITHOUT a hash") {
		t.Errorf("unverified download not reported:\n%s", stderr)
	}
	for _, p := range []string{out, filepath.Join(dir, "pki")} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v", p, st.Mode(), err)
		}
	}
	if !strings.Contains(stdout, "[pki] issued delivery-serving") || !strings.Contains(stdout, "[pki] issued delivery-token-secret") {
		t.Errorf("delivery.url set but no delivery certificate or token secret:\n%s", stdout)
	}
	if st, err := os.Stat(filepath.Join(out, "cp-b.pointer.ign")); err != nil || st.Size() >= 16<<10 {
		t.Errorf("pointer config: %v (AWS user-data must stay under 16 KiB)", err)
	}
	for _, f := range []string{"cp-a.ign", "cp-e.ign", "admin.kubeconfig", "cp-a-ignition.img", "cp-a.pointer.ign"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st.Mode(), err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(out, "cp-c.ign"))
	code, stdout, stderr = kign(t, "gen", "--hosts", hosts, "-o", out, "--now", "2026-11-02T12:00:00Z")
	if code != ExitOK {
		t.Fatalf("second run exit %d\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "issued") || strings.Contains(stdout, "[out] wrote") || !strings.Contains(stdout, "[pki] using existing etcd-peer for cp-e") {
		t.Errorf("second run changed something:\n%s", stdout)
	}
	after, _ := os.ReadFile(filepath.Join(out, "cp-c.ign"))
	if !bytes.Equal(before, after) {
		t.Error("cp-c.ign differs after a re-run with the same bundle")
	}
}

// --format matchbox writes matchbox's layout and warns loudly.
func TestGenMatchbox(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/five/hosts.yaml")
	out := filepath.Join(dir, "matchbox")
	if code, _, stderr := kign(t, "gen", "--hosts", hosts, "-o", out, "--format", "matchbox"); code != ExitUsage || !strings.Contains(stderr, "needs --matchbox-url") {
		t.Errorf("matchbox without URL: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", out, "--format", "matchbox", "--matchbox-url", "http://matchbox.five.example.internal:8080")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "WARNING: ") || !strings.Contains(strings.ToLower(stderr), "authentication") {
		t.Errorf("no loud warning about matchbox serving secrets without authentication:\n%s", stderr)
	}
	for _, f := range []string{"profiles", "groups", "ignition"} {
		if entries, err := os.ReadDir(filepath.Join(out, f)); err != nil || len(entries) == 0 {
			t.Errorf("%s/: %v %v", f, entries, err)
		}
	}
}

// inventoryCopy copies an example inventory into a temporary folder, so that
// the PKI bundle kign makes beside it lands there.
func inventoryCopy(t *testing.T, path string) (dir, hosts string) {
	t.Helper()
	dir = t.TempDir()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hosts = filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(hosts, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The add-on files the example names, beside it.
	if err := os.CopyFS(filepath.Join(dir, "addons"), os.DirFS(filepath.Join(filepath.Dir(path), "addons"))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return dir, hosts
}
