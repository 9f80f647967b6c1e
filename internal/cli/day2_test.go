package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vincent-petithory/dataurl"
)

// ignFiles returns the files of an Ignition config by path, decoded.
func ignFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Storage struct {
			Files []struct {
				Path     string `json:"path"`
				Contents struct {
					Source string `json:"source"`
				} `json:"contents"`
			} `json:"files"`
		} `json:"storage"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range cfg.Storage.Files {
		src := f.Contents.Source
		if du, err := dataurl.DecodeString(src); err == nil {
			src = string(du.Data)
		}
		out[f.Path] = src
	}
	return out
}

// Adding a master changes the others' configs only where they list their
// peers, and kign gen says which masters to reprovision, in which order.
func TestGenAddMaster(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/seed/hosts.yaml")
	out := filepath.Join(dir, "out")
	if code, _, stderr := kign(t, "gen", "--hosts", hosts, "-o", out); code != ExitOK {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	before := ignFiles(t, filepath.Join(out, "master0.ign"))
	data, _ := os.ReadFile(hosts)
	added := strings.Replace(string(data), "  - name: master2\n    ip: 10.22.108.92\n", "  - name: master2\n    ip: 10.22.108.92\n  - name: master3\n    ip: 10.22.108.93\n", 1)
	if added == string(data) {
		t.Fatal("the seed's hosts list changed; update the test")
	}
	if err := os.WriteFile(hosts, []byte(added), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", out)
	if code != ExitOK {
		t.Fatalf("gen with master3: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		`[reprovision] master0: its config changed; reprovision it`,
		`[reprovision] one master at a time, in this order: master0, master1, master2;`,
		`[reprovision] then boot the new master(s) master3: each joins the running etcd cluster by itself`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	after := ignFiles(t, filepath.Join(out, "master0.ign"))
	var changed []string
	for p, v := range after {
		if before[p] != v {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	// The peer lists: keepalived's unicast peers, the apiserver's etcd
	// servers, flanneld's etcd endpoints, etcd's initial cluster, and the
	// etcd scripts' peers and initial cluster, and the add-on manager's
	// right to label the masters' Nodes, by name.
	want := []string{
		"/etc/flannel/flanneld.env",
		"/etc/keepalived/keepalived.conf",
		"/etc/kubernetes/etcd-member.sh",
		"/etc/kubernetes/etcd-restore.sh",
		"/etc/kubernetes/kign-rbac.yaml",
		"/etc/kubernetes/manifests/etcd.yaml",
		"/etc/kubernetes/manifests/kube-apiserver.yaml",
	}
	if !slices.Equal(changed, want) {
		t.Errorf("master0's config changed in %q, want only the peer lists %q", changed, want)
	}
	// A run that changes nothing asks for no reprovisioning.
	if _, stdout, _ := kign(t, "gen", "--hosts", hosts, "-o", out); strings.Contains(stdout, "[reprovision]") {
		t.Errorf("an unchanged run asks for reprovisioning:\n%s", stdout)
	}
}

// kign gen records the version it generated for and refuses, naming the
// inventory's line, a later version that skips a minor or goes back one;
// nothing is written then.
func TestGenVersionSkew(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/seed/hosts.yaml")
	out := filepath.Join(dir, "out")
	if code, _, stderr := kign(t, "gen", "--hosts", hosts, "-o", out); code != ExitOK {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	state := filepath.Join(dir, "pki", StateFile)
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), "kubernetesVersion: v1.36.4") {
		t.Fatalf("%s: %q %v", state, data, err)
	}
	if st, err := os.Stat(state); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", state, st.Mode(), err)
	}
	for _, tc := range []struct{ last, want string }{
		{"v1.34.2", "hosts.yaml:10:22: cluster.kubernetesVersion: v1.36.4 skips a minor version: the configs were last generated for v1.34.2"},
		{"v1.37.0", "v1.36.4 is a minor version older than v1.37.0"},
	} {
		if err := os.WriteFile(state, []byte("kubernetesVersion: "+tc.last+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(out)
		code, _, stderr := kign(t, "gen", "--hosts", hosts, "-o", out)
		if code != ExitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("last %s: exit %d, stderr %q, want %q", tc.last, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("last %s: %s written", tc.last, out)
		}
		if code, _, stderr := kign(t, "validate", "--hosts", hosts); code != ExitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("validate, last %s: exit %d, %q", tc.last, code, stderr)
		}
	}
	// One minor up is an upgrade.
	os.WriteFile(state, []byte("kubernetesVersion: v1.35.8\n"), 0o600)
	if code, _, stderr := kign(t, "gen", "--hosts", hosts, "-o", out); code != ExitOK {
		t.Fatalf("gen after 1.35: exit %d\n%s", code, stderr)
	}
	if data, _ := os.ReadFile(state); !strings.Contains(string(data), "v1.36.4") {
		t.Errorf("state after the upgrade: %s", data)
	}
}
