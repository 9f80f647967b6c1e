package inventory

import (
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/catalog"
)

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
	sum := strings.Repeat("ab", 32)
	out := ApplyArtifacts(set, Artifacts{
		Mirror:          "http://m.local",
		AllowUnverified: []string{"flannel-cni-plugin"},
		Overrides:       map[string]ArtifactOverride{"flanneld": {SHA256: sum}, "pause": {Image: "reg.local/pause:9"}},
	}, nil)
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
	lock := &Lock{File: "hosts.lock"}
	for _, f := range []string{cni.URL, fl.URL} {
		if err := lock.Add(LockEntry{URL: f, SHA256: sum, SHA512: strings.Repeat("cd", 64)}); err != nil {
			t.Fatal(err)
		}
	}
	out = ApplyArtifacts(set, Artifacts{Mirror: "http://m.local"}, lock)
	if f, _ := out.File("flannel-cni-plugin"); f.SHA512 != strings.Repeat("cd", 64) || !strings.HasPrefix(f.URL, "http://m.local/") {
		t.Errorf("locked flannel-cni-plugin = %+v", f)
	}
}
