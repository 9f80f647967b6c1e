package plan

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/inventory"
)

func TestNthAddr(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
		want   string
	}{
		{"10.99.66.0/23", 1, "10.99.66.1"},   // the seed's apiserver service IP (the guide wrongly used 10.101.66.1)
		{"10.99.66.0/23", 10, "10.99.66.10"}, // kign's default DNS IP
		{"10.99.66.0/23", 300, "10.99.67.44"},
		{"10.96.0.0/12", 1, "10.96.0.1"},
	} {
		if got := NthAddr(netip.MustParsePrefix(tc.prefix), tc.n); got.String() != tc.want {
			t.Errorf("NthAddr(%s, %d) = %s, want %s", tc.prefix, tc.n, got, tc.want)
		}
	}
}

func TestPodsPerNode(t *testing.T) {
	for mask, want := range map[int]int{24: 253, 27: 29, 22: 1021, 30: 1} {
		if got := inventory.PodsPerNode(mask); got != want {
			t.Errorf("PodsPerNode(%d) = %d, want %d", mask, got, want)
		}
	}
}

func TestDerivedKeepalivedValues(t *testing.T) {
	vip := netip.MustParseAddr("10.22.108.250")
	id := DeriveVirtualRouterID("seed", vip)
	if id < 1 || id > 255 {
		t.Fatalf("virtual router id %d out of 1..255", id)
	}
	if id != DeriveVirtualRouterID("seed", vip) {
		t.Fatal("virtual router id is not deterministic")
	}
	pw := DeriveVRRPPassword("seed", vip)
	if len(pw) != 8 || pw != DeriveVRRPPassword("seed", vip) || pw == DeriveVRRPPassword("other", vip) {
		t.Fatalf("password %q: want 8 deterministic characters that differ per cluster", pw)
	}
}

func TestMirror(t *testing.T) {
	got := MirrorURL("http://mirror.local/k8s/", "https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet")
	if want := "http://mirror.local/k8s/dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet"; got != want {
		t.Errorf("MirrorURL = %s, want %s", got, want)
	}
	if got := MirrorImage("reg.local:5000", "registry.k8s.io/kube-apiserver:v1.36.4"); got != "reg.local:5000/kube-apiserver:v1.36.4" {
		t.Errorf("MirrorImage = %s", got)
	}
	if got := MirrorImage("reg.local", "docker.io/osixia/keepalived:2.0.20"); got != "reg.local/osixia/keepalived:2.0.20" {
		t.Errorf("MirrorImage = %s", got)
	}
}

func TestApplyArtifacts(t *testing.T) {
	set, err := catalog.Lookup("v1.36.4", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyArtifacts(set, inventory.Artifacts{}, nil); err == nil || !strings.Contains(err.Error(), "flanneld") {
		t.Fatalf("unverified flanneld accepted without allowUnverified: %v", err)
	}
	sum := strings.Repeat("ab", 32)
	out, err := ApplyArtifacts(set, inventory.Artifacts{
		Mirror:          "http://m.local",
		AllowUnverified: []string{"flannel-cni-plugin"},
		Overrides:       map[string]inventory.ArtifactOverride{"flanneld": {SHA256: sum}, "pause": {Image: "reg.local/pause:9"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := out.File("flanneld")
	if f.SHA256 != sum || !strings.HasPrefix(f.URL, "http://m.local/github.com/flannel-io/") {
		t.Errorf("flanneld = %+v", f)
	}
	if im, _ := out.Image("pause"); im.Ref != "reg.local/pause:9" {
		t.Errorf("pause = %s", im.Ref)
	}
	if orig, _ := set.File("flanneld"); orig.SHA256 != "" {
		t.Error("ApplyArtifacts changed the catalog's own set")
	}
	// A lock file's hashes apply by the URL before the mirror.
	cni, _ := set.File("flannel-cni-plugin")
	fl, _ := set.File("flanneld")
	lock := &inventory.Lock{File: "hosts.lock"}
	for _, f := range []string{cni.URL, fl.URL} {
		if err := lock.Add(inventory.LockEntry{URL: f, SHA256: sum, SHA512: strings.Repeat("cd", 64)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = ApplyArtifacts(set, inventory.Artifacts{Mirror: "http://m.local"}, lock)
	if err != nil {
		t.Fatalf("locked files refused: %v", err)
	}
	if f, _ := out.File("flannel-cni-plugin"); f.SHA512 != strings.Repeat("cd", 64) || !strings.HasPrefix(f.URL, "http://m.local/") {
		t.Errorf("locked flannel-cni-plugin = %+v", f)
	}
	if _, err := ApplyArtifacts(set, inventory.Artifacts{AllowUnverified: []string{"flanneld", "flannel-cni-plugin"}, Overrides: map[string]inventory.ArtifactOverride{"kubeletx": {}}}, nil); err == nil {
		t.Error("unknown override name accepted")
	}
}
