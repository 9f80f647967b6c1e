package images

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/osvariant"
)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Rules over the table itself.
func TestCatalogRules(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range catalog {
		key := r.os + "/" + r.stream + "/" + r.version
		t.Run(key, func(t *testing.T) {
			if seen[key] {
				t.Fatalf("duplicate row")
			}
			seen[key] = true
			if r.source == "" {
				t.Errorf("no source: every version must cite where it comes from")
			}
			if !contains(osvariant.MustLookup(r.os).Streams, r.stream) {
				t.Errorf("stream %q not in the streams of %s", r.stream, r.os)
			}
			if !regexp.MustCompile(`^\d+(\.\d+)+$`).MatchString(r.version) {
				t.Errorf("version %q is not dotted numbers", r.version)
			}
			hashes := 0
			for arch, roles := range r.sha256 {
				if _, ok := r.naming.arch[arch]; !ok {
					t.Errorf("hash for arch %q the naming does not build", arch)
				}
				for role, h := range roles {
					hashes++
					if !hexSHA256.MatchString(h) {
						t.Errorf("%s %s: %q is not a lower-case sha256", arch, role, h)
					}
					if role == "rootfs" && r.naming.rootfs == "" {
						t.Errorf("%s: rootfs hash for an OS without rootfs", arch)
					}
				}
			}
			if hashes == 0 && r.note == "" {
				t.Errorf("no hash and no note saying why")
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name                         string
		os, stream, version, arch, m string
		wantVersion                  string
		wantKernel, wantInitramfs    string
		wantRootfs                   string
		wantKernelSHA                string
		catalogued, verified         bool
	}{
		{
			name: "fcos default is newest stable, OSBuild naming", os: FCOS,
			wantVersion:   "42.20250901.3.0",
			wantKernel:    "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/42.20250901.3.0/x86_64/fedora-coreos-42.20250901.3.0-live-kernel.x86_64",
			wantInitramfs: "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/42.20250901.3.0/x86_64/fedora-coreos-42.20250901.3.0-live-initramfs.x86_64.img",
			wantRootfs:    "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/42.20250901.3.0/x86_64/fedora-coreos-42.20250901.3.0-live-rootfs.x86_64.img",
			catalogued:    true,
		},
		{
			name: "fcos pinned release with hashes, legacy naming", os: FCOS, stream: "stable", version: "39.20231204.3.3", arch: "arm64",
			wantVersion:   "39.20231204.3.3",
			wantKernel:    "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/39.20231204.3.3/aarch64/fedora-coreos-39.20231204.3.3-live-kernel-aarch64",
			wantInitramfs: "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/39.20231204.3.3/aarch64/fedora-coreos-39.20231204.3.3-live-initramfs.aarch64.img",
			wantRootfs:    "https://builds.coreos.fedoraproject.org/prod/streams/stable/builds/39.20231204.3.3/aarch64/fedora-coreos-39.20231204.3.3-live-rootfs.aarch64.img",
			wantKernelSHA: "7b8d0485c7b70cdd881b4b728d7d87a88a49847a17901292030ed9bbdfc217e9",
			catalogued:    true, verified: true,
		},
		{
			name: "mirror replaces the release folder", os: FCOS, version: "39.20231204.3.3", m: "http://10.0.0.1/fcos/",
			wantVersion:   "39.20231204.3.3",
			wantKernel:    "http://10.0.0.1/fcos/fedora-coreos-39.20231204.3.3-live-kernel-x86_64",
			wantInitramfs: "http://10.0.0.1/fcos/fedora-coreos-39.20231204.3.3-live-initramfs.x86_64.img",
			wantRootfs:    "http://10.0.0.1/fcos/fedora-coreos-39.20231204.3.3-live-rootfs.x86_64.img",
			wantKernelSHA: "5490e2d24924f2f9a71b5cab901d6f9936ad9ad5190f3021b58adb4f2e7d1e09",
			catalogued:    true, verified: true,
		},
		{
			name: "flatcar default", os: Flatcar,
			wantVersion:   "4593.2.2",
			wantKernel:    "https://stable.release.flatcar-linux.net/amd64-usr/4593.2.2/flatcar_production_pxe.vmlinuz",
			wantInitramfs: "https://stable.release.flatcar-linux.net/amd64-usr/4593.2.2/flatcar_production_pxe_image.cpio.gz",
			catalogued:    true,
		},
		{
			name: "uncatalogued pin follows newest naming", os: FCOS, stream: "testing", version: "44.20260607.2.0",
			wantVersion:   "44.20260607.2.0",
			wantKernel:    "https://builds.coreos.fedoraproject.org/prod/streams/testing/builds/44.20260607.2.0/x86_64/fedora-coreos-44.20260607.2.0-live-kernel.x86_64",
			wantInitramfs: "https://builds.coreos.fedoraproject.org/prod/streams/testing/builds/44.20260607.2.0/x86_64/fedora-coreos-44.20260607.2.0-live-initramfs.x86_64.img",
			wantRootfs:    "https://builds.coreos.fedoraproject.org/prod/streams/testing/builds/44.20260607.2.0/x86_64/fedora-coreos-44.20260607.2.0-live-rootfs.x86_64.img",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Lookup(tc.os, tc.stream, tc.version, tc.arch, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if img.Version != tc.wantVersion {
				t.Errorf("version %q, want %q", img.Version, tc.wantVersion)
			}
			for _, c := range []struct{ name, got, want string }{
				{"kernel", img.Kernel.URL, tc.wantKernel},
				{"initramfs", img.Initramfs.URL, tc.wantInitramfs},
				{"rootfs", img.Rootfs.URL, tc.wantRootfs},
				{"kernel sha256", img.Kernel.SHA256, tc.wantKernelSHA},
			} {
				if c.got != c.want {
					t.Errorf("%s:\n got %q\nwant %q", c.name, c.got, c.want)
				}
			}
			if img.Catalogued != tc.catalogued || img.Verified() != tc.verified {
				t.Errorf("catalogued %v verified %v, want %v %v", img.Catalogued, img.Verified(), tc.catalogued, tc.verified)
			}
			if !img.Verified() && img.Note == "" {
				t.Errorf("unverified image without a note")
			}
			if img.Source == "" {
				t.Errorf("no source")
			}
		})
	}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name, os, stream, version, arch, want string
	}{
		{"unknown os", "ubuntu", "", "", "", `unknown OS "ubuntu"`},
		{"stream of the other os", FCOS, "beta", "", "", `fcos has no stream "beta"`},
		{"unknown arch", Flatcar, "", "", "riscv64", `unknown arch "riscv64"`},
		{"no default for stream", FCOS, "next", "", "", "set images.version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Lookup(tc.os, tc.stream, tc.version, tc.arch, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNewerVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"42.20250901.3.0", "39.20231204.3.3", true},
		{"4593.2.2", "4230.2.3", true},
		{"4230.2.3", "4593.2.2", false},
		{"42.20250901.3.1", "42.20250901.3.0", true},
		{"1.0", "1.0", false},
	}
	for _, tc := range tests {
		if got := newerVersion(tc.a, tc.b); got != tc.want {
			t.Errorf("newerVersion(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

func TestReleasesSorted(t *testing.T) {
	rs := Releases()
	if len(rs) != len(catalog) {
		t.Fatalf("%d releases, catalog has %d", len(rs), len(catalog))
	}
	for i := 1; i < len(rs); i++ {
		if rs[i-1] > rs[i] {
			t.Fatalf("not sorted: %v", rs)
		}
	}
}
