package delivery

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/testtool"
)

// The archive is checked with Debian's own xz and cpio, not only with the
// library that wrote it.
func TestWrapIgnitionWithRealTools(t *testing.T) {
	xzBin := testtool.Need(t, "xz", "xz-utils")
	cpioBin := testtool.Need(t, "cpio", "cpio")

	tests := []struct {
		name     string
		os       string
		size     int
		wantPath string
		wantList []string // cpio -t, in order
	}{
		{"fcos small", "fcos", 100, "config.ign", []string{"config.ign"}},
		{"fcos 200k", "fcos", 200 << 10, "config.ign", []string{"config.ign"}},
		{"flatcar oem path", "flatcar", 4 << 10, "usr/share/oem/config.ign",
			[]string{"usr", "usr/share", "usr/share/oem", "usr/share/oem/config.ign"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ign := testConfig("master0", tc.size)
			img, err := WrapIgnitionFor(osvariant.MustLookup(tc.os), ign)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := WrapIgnitionFor(osvariant.MustLookup(tc.os), ign)
			if !bytes.Equal(img, again) {
				t.Errorf("wrapping is not deterministic")
			}
			dir := t.TempDir()
			imgPath := filepath.Join(dir, "master0-ignition.img")
			if err := os.WriteFile(imgPath, img, 0o600); err != nil {
				t.Fatal(err)
			}

			// xz -t checks the stream and its integrity check; the kernel
			// accepts only CRC32 (or none).
			run(t, dir, nil, xzBin, "-t", imgPath)
			list := string(run(t, dir, nil, xzBin, "--robot", "-lvv", imgPath))
			if !strings.Contains(list, "CRC32") || strings.Contains(list, "CRC64") {
				t.Errorf("xz -lvv does not show a CRC32-only stream:\n%s", list)
			}

			raw := run(t, dir, nil, xzBin, "-dc", imgPath)
			if !bytes.HasPrefix(raw, []byte("070701")) {
				t.Errorf("not a newc archive: magic %q", raw[:6])
			}
			names := strings.Fields(string(run(t, dir, raw, cpioBin, "--quiet", "-t")))
			if strings.Join(names, " ") != strings.Join(tc.wantList, " ") {
				t.Errorf("cpio -t = %v, want %v", names, tc.wantList)
			}
			verbose := string(run(t, dir, raw, cpioBin, "--quiet", "-tv"))
			for _, line := range strings.Split(strings.TrimSpace(verbose), "\n") {
				f := strings.Fields(line)
				if f[len(f)-1] == tc.wantPath && f[0] != "-rw-------" {
					t.Errorf("config mode %s, want -rw-------", f[0])
				}
				if f[2] != "root" || f[3] != "root" {
					t.Errorf("owner %s:%s, want root:root in %q", f[2], f[3], line)
				}
			}

			out := filepath.Join(dir, "unpacked")
			if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			run(t, out, raw, cpioBin, "--quiet", "-idm", "--no-absolute-filenames")
			got, err := os.ReadFile(filepath.Join(out, tc.wantPath))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, ign) {
				t.Errorf("unpacked config differs from the .ign (%d vs %d bytes)", len(got), len(ign))
			}
			st, _ := os.Stat(filepath.Join(out, tc.wantPath))
			if st.Mode().Perm() != 0o600 || st.ModTime().Unix() != 0 {
				t.Errorf("unpacked mode %v mtime %d, want 0600 and 0", st.Mode().Perm(), st.ModTime().Unix())
			}

			files, err := UnwrapFiles(img)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(files[tc.wantPath], ign) || len(files) != 1 {
				t.Errorf("UnwrapFiles gave %d files, config equal %v", len(files), bytes.Equal(files[tc.wantPath], ign))
			}
		})
	}
}

func TestWrapErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
	}{
		{"absolute path", map[string][]byte{"/config.ign": nil}},
		{"parent path", map[string][]byte{"../config.ign": nil}},
		{"unclean path", map[string][]byte{"a//config.ign": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WrapFiles(tc.files)
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestUnwrapZeroPadded(t *testing.T) {
	ign := testConfig("master1", 50)
	img, err := WrapIgnition(ign)
	if err != nil {
		t.Fatal(err)
	}
	padded := append(append([]byte{}, img...), make([]byte, 4096)...)
	files, err := UnwrapFiles(padded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["config.ign"], ign) {
		t.Fatal("config lost in a zero-padded area")
	}
	empty, err := UnwrapFiles(make([]byte, 1024))
	if err != nil || len(empty) != 0 {
		t.Fatalf("all-zero area: %v %v", empty, err)
	}
}

// BenchmarkWrapSeed is the coreos-installer wrap (cpio + xz) of one seed
// host's golden config, the largest part of `kign gen` after the config
// itself.
func BenchmarkWrapSeed(b *testing.B) {
	ign, err := os.ReadFile("../gen/testdata/seed/golden/master0.ign")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ign)))
	for i := 0; i < b.N; i++ {
		if _, err := WrapIgnitionFor(osvariant.MustLookup("fcos"), ign); err != nil {
			b.Fatal(err)
		}
	}
}
