package gen

import (
	"path/filepath"
	"testing"
)

// TestShippedOverlays: every example overlay under overlays/ passes Butane's
// strict translation on its own (what `kign gen` checks first) and merges
// into every host of the seed example.
func TestShippedOverlays(t *testing.T) {
	paths, err := filepath.Glob("../../overlays/*.bu")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no overlays found: %v", err)
	}
	p := loadPlan(t, examples[0])
	b := testBundle(t, examples[0], p)
	overlays := map[string][]byte{}
	for _, path := range paths {
		data := readFile(t, path)
		if err := CheckOverlay(path, data); err != nil {
			t.Errorf("%v", err)
		}
		overlays[path] = data
		p.Overlays = append(p.Overlays, path)
	}
	if _, err := Generate(p, b, Options{Overlays: overlays}); err != nil {
		t.Fatal(err)
	}
}
