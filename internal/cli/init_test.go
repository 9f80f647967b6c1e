package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A new user's path, on a fresh folder: kign init, kign artifacts lock,
// kign gen give verified configs with no allowUnverified anywhere.
func TestInitLockGen(t *testing.T) {
	srv, _, _ := lockMirror(t)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts.yaml")
	code, stdout, stderr := kign(t, "init", "--name", "first", "--vip", "10.0.0.10", "--os", "flatcar",
		"--host", "m0=10.0.0.11", "--host", "m1=10.0.0.12,mac=52:54:00:00:00:12", "--host", "m2=10.0.0.13,disk=/dev/vda",
		"--mirror", srv.URL, "-o", hosts)
	if code != ExitOK || !strings.Contains(stdout, "[init] wrote "+hosts) {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	data, _ := os.ReadFile(hosts)
	if bytes.Contains(data, []byte("allowUnverified")) {
		t.Fatalf("init wrote allowUnverified:\n%s", data)
	}
	for _, step := range [][]string{
		{"artifacts", "lock", "--hosts", hosts},
		{"validate", "--hosts", hosts},
		{"gen", "--hosts", hosts, "-o", filepath.Join(dir, "out")},
	} {
		code, stdout, stderr := kign(t, step...)
		if code != ExitOK || strings.Contains(stderr, "WITHOUT a hash") {
			t.Fatalf("kign %s: exit %d\n%s%s", strings.Join(step, " "), code, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "m2.ign")); err != nil {
		t.Fatal(err)
	}
	// Again: init refuses to replace the file without --force.
	code, _, stderr = kign(t, "init", "--name", "first", "--vip", "10.0.0.10", "--host", "m0=10.0.0.11", "-o", hosts)
	if code != ExitFailure || !strings.Contains(stderr, "exists; use --force") {
		t.Fatalf("init over an existing file: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(hosts); !bytes.Equal(after, data) {
		t.Error("init changed the existing file")
	}
	if code, _, stderr := kign(t, "init", "--name", "first", "--vip", "10.0.0.10", "--host", "m0=10.0.0.11", "-o", hosts, "--force"); code != ExitOK {
		t.Fatalf("init --force: exit %d\n%s", code, stderr)
	}
}

// The default networks step aside for hosts that live in them.
func TestInitPicksFreeNetworks(t *testing.T) {
	code, stdout, stderr := kign(t, "init", "--name", "c", "--vip", "10.96.0.10", "--host", "a=10.96.0.11", "--host", "b=10.244.0.12", "--host", "c=10.200.0.13")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"serviceCIDR: 172.20.0.0/16\n", "podCIDR: 172.24.0.0/14\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

// Values kign would refuse are reported with the field they went to, and
// nothing is written.
func TestInitRefusesBadValues(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "hosts.yaml")
	code, _, stderr := kign(t, "init", "--name", "Bad_Name", "--vip", "10.0.0.300", "--host", "m0=10.0.0.11,disk=sda", "-o", out)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{"cluster.name: \"Bad_Name\" is not a DNS-1123 label", "cluster.apiServer.vip: \"10.0.0.300\" is not an IPv4 address", "hosts[0].installDisk: \"sda\" is not an absolute device path", "nothing written"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a bad init wrote its file")
	}
	if code, _, _ := kign(t, "init", "--vip", "10.0.0.10"); code != ExitUsage {
		t.Errorf("init without --name: exit %d, want 2", code)
	}
}

// On a terminal, init asks for what the flags leave out.
func TestInitAsks(t *testing.T) {
	var o, e bytes.Buffer
	code := MainEnv([]string{"init"}, Env{Stdout: &o, Stderr: &e, Interactive: true,
		Stdin: strings.NewReader("asked\n10.1.0.10\nm0=10.1.0.11\nm1=10.1.0.12\n\n")})
	if code != ExitOK || !strings.Contains(e.String(), "Cluster name: ") {
		t.Fatalf("exit %d\n%s%s", code, o.String(), e.String())
	}
	for _, want := range []string{"name: asked\n", "vip: 10.1.0.10\n", "- name: m1\n    ip: 10.1.0.12\n"} {
		if !strings.Contains(o.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, o.String())
		}
	}
}
