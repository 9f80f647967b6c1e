package gen

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/pki"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current code")

// TestGolden generates the seed example from the PKI bundle kept in
// testdata/seed/pki (test keys, made once with `kign gen --now`, valid at
// testNow) and compares every output with testdata/seed/golden. After a
// reviewed change: go test ./internal/gen -run TestGolden -update.
func TestGolden(t *testing.T) {
	p := loadPlan(t, examples[0])
	b, err := pki.Load(privateCopy(t, "testdata/seed/pki"))
	if err != nil {
		t.Fatal(err)
	}
	events, err := b.Complete(p, pki.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action != "using existing" {
			t.Fatalf("the kept bundle no longer matches the seed plan: %s (re-make it, see testdata/README.md)", e)
		}
	}
	res, err := Generate(p, b, Options{EmitButane: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := "testdata/seed/golden"
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, ".img") {
			continue // binary (xz); its round trip to the .ign is tested in internal/delivery
		}
		golden := filepath.Join(dir, f.Path)
		if *update {
			if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("%s differs from %s: review the change, then run with -update", f.Path, golden)
		}
	}
}

// privateCopy copies a kept bundle into a temporary folder with the modes
// pki.Load insists on (git does not keep 0600 and 0700).
func privateCopy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pki")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
