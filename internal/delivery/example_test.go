package delivery

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	v35 "github.com/coreos/ignition/v2/config/v3_5"

	"github.com/kign-project/kign/internal/testtool"
)

// The seed example's real configs (the golden files of `kign gen`, with its
// CA): every host's -ignition.img unpacks with Debian's xz and cpio to the
// exact .ign, and every pointer config validates and fits AWS user-data.
func TestSeedExampleArtifacts(t *testing.T) {
	golden := filepath.Join("..", "gen", "testdata", "seed", "golden")
	ignPaths, _ := filepath.Glob(filepath.Join(golden, "*.ign"))
	caPEM, err := os.ReadFile(filepath.Join("..", "gen", "testdata", "seed", "pki", "ca.crt"))
	if len(ignPaths) == 0 || err != nil {
		testtool.Missing(t, "the seed example's golden configs are not in "+golden)
	}
	xzBin := testtool.Need(t, "xz", "xz-utils")
	cpioBin := testtool.Need(t, "cpio", "cpio")
	p := testPlan("fcos")
	img := testImage(t, "fcos")
	secret := []byte("seed-example-delivery-secret-0123456789")
	for _, path := range ignPaths {
		name := filepath.Base(path[:len(path)-len(".ign")])
		t.Run(name, func(t *testing.T) {
			ign, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			h := p.Hosts[0]
			h.Name = name
			set, err := HostArtifacts(p, img, HostInput{Host: h, Ignition: ign, Token: HostToken(secret, name)},
				Options{DeliveryURL: "https://10.22.108.5:8443", CAPEM: caPEM})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range set {
				files[f.Path] = f.Data
			}
			dir := t.TempDir()
			raw := run(t, dir, files[IgnitionImgName(name)], xzBin, "-dc")
			run(t, dir, raw, cpioBin, "--quiet", "-idm")
			// Debian's xz and cpio unpack it to the live config, which
			// installs to the host's disk with the host's full config.
			got, err := os.ReadFile(filepath.Join(dir, "config.ign"))
			if err != nil {
				t.Fatalf("%s does not unpack to config.ign (err %v)", IgnitionImgName(name), err)
			}
			in, err := ReadInstallConfig(p.OS, got)
			if err != nil || in.Disk != h.InstallDisk || !bytes.Equal(in.Config, ign) {
				t.Fatalf("%s does not install %s.ign to %s (%+v, %v)", IgnitionImgName(name), name, h.InstallDisk, in.Disk, err)
			}
			ptr := files[PointerName(name)]
			if _, rpt, err := v35.Parse(ptr); err != nil || rpt.IsFatal() {
				t.Fatalf("pointer: %v %s", err, rpt)
			}
			if len(ptr) >= MaxUserData {
				t.Fatalf("pointer is %d bytes", len(ptr))
			}
			t.Logf("%s: config %d bytes, -ignition.img %d bytes, pointer %d bytes (AWS limit %d)",
				name, len(ign), len(files[IgnitionImgName(name)]), len(ptr), MaxUserData)
		})
	}
}
