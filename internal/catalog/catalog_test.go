package catalog

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Rule tests over the catalog table.
func TestCatalogRows(t *testing.T) {
	if got := Default(); got != "v1.36.4" {
		t.Errorf("default version %s, want v1.36.4 (newest 1.36 in the catalog)", got)
	}
	for _, v := range Versions() {
		for _, arch := range Arches {
			s, err := Lookup(v, arch)
			if err != nil {
				t.Fatalf("%s/%s: %v", v, arch, err)
			}
			for _, f := range s.Files {
				if !strings.HasPrefix(f.URL, "https://") || !strings.Contains(f.URL, arch) {
					t.Errorf("%s/%s %s: URL %s", v, arch, f.Name, f.URL)
				}
				if f.SHA256 != "" {
					if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 {
						t.Errorf("%s/%s %s: bad sha256 %q", v, arch, f.Name, f.SHA256)
					}
				}
				if !f.Verified() && f.Note == "" {
					t.Errorf("%s/%s %s: no hash and no note saying why", v, arch, f.Name)
				}
			}
			for _, want := range []string{Kubelet, CNIPlugins, Etcd} {
				if f, ok := s.File(want); !ok || !f.Verified() {
					t.Errorf("%s/%s: %s must be in the set with a hash", v, arch, want)
				}
			}
			if im, _ := s.Image(ImageAPIServer); im.Ref != "registry.k8s.io/kube-apiserver:"+v {
				t.Errorf("%s: apiserver image %s", v, im.Ref)
			}
		}
	}
	if _, err := Lookup("v1.99.0", "amd64"); err == nil || !strings.Contains(err.Error(), "v1.36.4") {
		t.Errorf("unknown version: %v (want the supported list)", err)
	}
	if _, err := Lookup("v1.36.4", "riscv64"); err == nil {
		t.Error("unknown arch accepted")
	}
}
