package delivery

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kign-project/kign/internal/testtool"
)

// makeISO builds a small ISO 9660 image with Debian's xorriso from files
// (path -> contents), laid out like a Fedora CoreOS live ISO when the files
// include images/ignition.img (and optionally coreos/igninfo.json).
func makeISO(t *testing.T, files map[string][]byte) string {
	t.Helper()
	xorriso := testtool.Need(t, "xorriso", "xorriso")
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for p, data := range files {
		full := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	iso := filepath.Join(dir, "live.iso")
	run(t, dir, nil, xorriso, "-as", "mkisofs", "-quiet", "-V", "fedora-coreos-test", "-o", iso, tree)
	return iso
}

func incompressible(n int) []byte {
	b := make([]byte, n/2)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

func TestEmbedISO(t *testing.T) {
	kernel := []byte("not really a kernel\n")
	marker := bytes.Repeat([]byte{0xAB}, 4096) // data before the area inside the same file
	tests := []struct {
		name       string
		files      map[string][]byte
		wantOffset int64 // offset of the area inside images/ignition.img
		wantLength int64
	}{
		{
			name: "legacy ISO without igninfo",
			files: map[string][]byte{
				"images/pxeboot/vmlinuz": kernel,
				"images/ignition.img":    make([]byte, 256<<10),
			},
			wantLength: 256 << 10,
		},
		{
			name: "igninfo names the file",
			files: map[string][]byte{
				"images/pxeboot/vmlinuz": kernel,
				"images/ignition.img":    make([]byte, 256<<10),
				"coreos/igninfo.json":    []byte(`{"file": "images/ignition.img"}`),
			},
			wantLength: 256 << 10,
		},
		{
			name: "igninfo with offset and length",
			files: map[string][]byte{
				"images/pxeboot/vmlinuz": kernel,
				"images/ignition.img":    append(append([]byte{}, marker...), make([]byte, 128<<10)...),
				"coreos/igninfo.json":    []byte(`{"file": "images/ignition.img", "offset": 4096, "length": 65536}`),
			},
			wantOffset: 4096,
			wantLength: 65536,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isoPath := makeISO(t, tc.files)
			orig, err := os.ReadFile(isoPath)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(isoPath, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			area, err := FindEmbedArea(f)
			if err != nil {
				t.Fatal(err)
			}
			root, err := rootDirectory(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := lookup(f, root, "IMAGES/IGNITION.IMG")
			if err != nil {
				t.Fatal(err)
			}
			if area.Length != tc.wantLength || area.Offset-file.offset() != tc.wantOffset {
				t.Fatalf("area %+v, want length %d at file offset %d", area, tc.wantLength, tc.wantOffset)
			}
			if got, err := ISOIgnition(f); err != nil || got != nil {
				t.Fatalf("fresh ISO has a config: %q %v", got, err)
			}

			ign := testConfig("master0", 8<<10)
			if err := EmbedISO(f, ign, false); err != nil {
				t.Fatal(err)
			}
			got, err := ISOIgnition(f)
			if err != nil || !bytes.Equal(got, ign) {
				t.Fatalf("embedded config does not round-trip (err %v)", err)
			}
			now, _ := os.ReadFile(isoPath)
			if len(now) != len(orig) {
				t.Fatalf("ISO size changed from %d to %d", len(orig), len(now))
			}
			if !bytes.Equal(now[:area.Offset], orig[:area.Offset]) || !bytes.Equal(now[area.Offset+area.Length:], orig[area.Offset+area.Length:]) {
				t.Fatalf("bytes outside the embed area changed")
			}

			// Refuse to overwrite without force; replace with force.
			if err := EmbedISO(f, testConfig("master1", 100), false); !errors.Is(err, ErrAreaInUse) {
				t.Fatalf("second embed without force: %v", err)
			}
			ign2 := testConfig("master1", 100)
			if err := EmbedISO(f, ign2, true); err != nil {
				t.Fatal(err)
			}
			if got, _ := ISOIgnition(f); !bytes.Equal(got, ign2) {
				t.Fatalf("forced embed did not replace the config")
			}
			if tc.wantOffset != 0 {
				return
			}
			// Read the area back the way the live ISO's boot loader sees
			// it: the file images/ignition.img, extracted by xorriso and
			// unpacked by xz and cpio.
			xorriso := testtool.Need(t, "xorriso", "xorriso")
			dir := t.TempDir()
			run(t, dir, nil, xorriso, "-osirrox", "on", "-indev", isoPath, "-extract", "/images/ignition.img", filepath.Join(dir, "ignition.img"))
			img, _ := os.ReadFile(filepath.Join(dir, "ignition.img"))
			xzBin := testtool.Need(t, "xz", "xz-utils")
			cpioBin := testtool.Need(t, "cpio", "cpio")
			// xz decodes the stream and accepts the zero padding after it.
			raw := run(t, dir, img, xzBin, "-dc")
			run(t, dir, raw, cpioBin, "--quiet", "-idm")
			fromTools, err := os.ReadFile(filepath.Join(dir, "config.ign"))
			if err != nil || !bytes.Equal(fromTools, ign2) {
				t.Fatalf("xorriso+xz+cpio do not give back the config (err %v)", err)
			}
		})
	}
}

func TestEmbedISORefuses(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		ign   []byte
		want  error  // errors.Is target, or nil to check msg
		msg   string // substring
	}{
		{
			name:  "plain ISO without embed area",
			files: map[string][]byte{"README.TXT": []byte("hello\n"), "images/pxeboot/vmlinuz": []byte("k")},
			ign:   testConfig("master0", 100),
			want:  ErrNoEmbedArea,
		},
		{
			name:  "igninfo naming a missing file",
			files: map[string][]byte{"coreos/igninfo.json": []byte(`{"file":"images/nothere.img"}`), "images/ignition.img": make([]byte, 4096)},
			ign:   testConfig("master0", 100),
			want:  ErrNoEmbedArea,
		},
		{
			name:  "config larger than the area",
			files: map[string][]byte{"images/ignition.img": make([]byte, 8192)},
			ign:   []byte(`{"ignition":{"version":"3.5.0"},"x":"` + string(incompressible(64<<10)) + `"}`),
			msg:   "embed area holds 8192",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isoPath := makeISO(t, tc.files)
			orig, _ := os.ReadFile(isoPath)
			f, err := os.OpenFile(isoPath, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = EmbedISO(f, tc.ign, false)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.msg != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.msg))) {
				t.Fatalf("error %v, want %q", err, tc.msg)
			}
			if now, _ := os.ReadFile(isoPath); !bytes.Equal(now, orig) {
				t.Fatalf("a refused embed changed the ISO")
			}
		})
	}
}

func TestFindEmbedAreaNotISO(t *testing.T) {
	data := bytes.NewReader(make([]byte, 40*sectorSize))
	if _, err := FindEmbedArea(data); err == nil {
		t.Fatal("zeros accepted as an ISO")
	}
	short := bytes.NewReader([]byte("tiny"))
	if _, err := FindEmbedArea(short); err == nil {
		t.Fatal("a 4-byte file accepted as an ISO")
	}
}
