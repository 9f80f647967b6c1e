package output

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	for _, bad := range []Set{
		{{Path: "../x"}},
		{{Path: "/etc/passwd"}},
		{{Path: "."}},
		{{Path: "a/../../b"}},
		{{Path: "a.ign"}, {Path: "./a.ign"}},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if err := (Set{{Path: "a.ign"}, {Path: "sub/b.ign"}}).Check(); err != nil {
		t.Error(err)
	}
}

// Write makes a 0700 folder of files with their modes, and leaves a file
// that already holds the same bytes untouched.
func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	set := Set{{Path: "m0.ign", Data: []byte("{}"), Mode: 0o600}, {Path: "m0.ipxe", Data: []byte("#!ipxe\n"), Mode: 0o644}}
	written, err := Write(dir, set)
	if err != nil || len(written) != 2 {
		t.Fatalf("wrote %v, %v", written, err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", st.Mode())
	}
	for _, f := range set {
		st, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil || st.Mode().Perm() != f.Mode {
			t.Errorf("%s: %v %v", f.Path, st.Mode(), err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "m0.ign"), old, old); err != nil {
		t.Fatal(err)
	}
	set[1].Data = []byte("#!ipxe\nboot\n")
	written, err = Write(dir, set)
	if err != nil || len(written) != 1 || filepath.Base(written[0]) != "m0.ipxe" {
		t.Fatalf("second write: %v, %v", written, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "m0.ign")); !st.ModTime().Equal(old) {
		t.Error("an unchanged file was rewritten")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := Write(dir, Set{{Path: "../escape", Data: nil, Mode: 0o600}}); err == nil {
		t.Error("a path outside the folder was written")
	}
}
