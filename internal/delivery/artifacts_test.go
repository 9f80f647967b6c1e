package delivery

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestHostArtifacts(t *testing.T) {
	ca := testCA(t)
	tests := []struct {
		name      string
		os        string
		url       string
		wantPaths string
		wantModes []os.FileMode
		imgPath   string
	}{
		{"fcos with delivery URL", "fcos", "https://10.22.108.5:8443",
			"master0.ipxe master0-ignition.img master0.pointer.ign", []os.FileMode{0o644, 0o600, 0o600}, "config.ign"},
		{"flatcar without delivery URL", "flatcar", "",
			"master0.ipxe master0-ignition.img", []os.FileMode{0o644, 0o600}, "usr/share/oem/config.ign"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan(tc.os)
			ign := testConfig("master0", 2000)
			if tc.os == "flatcar" {
				ign = bytes.Replace(ign, []byte(`"3.5.0"`), []byte(`"3.4.0"`), 1)
			}
			set, err := HostArtifacts(p, testImage(t, tc.os), HostInput{Host: p.Hosts[0], Ignition: ign, Token: "tok"},
				Options{DeliveryURL: tc.url, CAPEM: ca})
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for i, f := range set {
				paths = append(paths, f.Path)
				if i < len(tc.wantModes) && f.Mode != tc.wantModes[i] {
					t.Errorf("%s mode %o, want %o", f.Path, f.Mode, tc.wantModes[i])
				}
			}
			if strings.Join(paths, " ") != tc.wantPaths {
				t.Fatalf("paths %v, want %s", paths, tc.wantPaths)
			}
			// The image holds, at the path the OS reads, a config that
			// installs the OS to the host's disk with the full config.
			files, err := UnwrapFiles(set[1].Data)
			if err != nil || files[tc.imgPath] == nil {
				t.Fatalf("img holds no config at %s (%v)", tc.imgPath, err)
			}
			in, err := ReadInstallConfig(p.OS, files[tc.imgPath])
			if err != nil {
				t.Fatal(err)
			}
			if in.Disk != p.Hosts[0].InstallDisk || !bytes.Equal(in.Config, ign) {
				t.Errorf("img installs to %q with a config of %d bytes, want %q with the host's full config", in.Disk, len(in.Config), p.Hosts[0].InstallDisk)
			}
			if strings.Contains(string(set[0].Data), "tok") {
				t.Errorf("the iPXE script contains the token")
			}
		})
	}
}

// flatcar-install takes the folder above a mirror's release folder as -b;
// a mirror laid out otherwise is refused.
func TestFlatcarInstallMirror(t *testing.T) {
	p := testPlan("flatcar")
	p.Image.Mirror = "https://mirror.example/flatcar/" + p.Image.Version
	ign, err := InstallConfig(p, p.Hosts[0], []byte(`{"ignition":{"version":"3.4.0"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ign), `-b \\\n  https://mirror.example/flatcar \\\n`) {
		t.Errorf("the install unit does not pass -b https://mirror.example/flatcar:\n%s", ign)
	}
	if in, err := ReadInstallConfig(p.OS, ign); err != nil || in.Disk != "/dev/sda" {
		t.Errorf("read back: %+v %v", in, err)
	}
	p.Image.Mirror = "https://mirror.example/flatcar"
	if _, err := InstallConfig(p, p.Hosts[0], []byte(`{"ignition":{"version":"3.4.0"}}`)); err == nil || !strings.Contains(err.Error(), "does not end in /"+p.Image.Version) {
		t.Errorf("a mirror without the version folder: %v", err)
	}
}
