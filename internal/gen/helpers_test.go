package gen

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// testNow is the fixed clock of every bundle the tests issue.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// The examples the structural tests run against: the seed (fcos, 3 hosts,
// RSA) and a second cluster unlike it (flatcar, 5 hosts, ECDSA, other CIDRs,
// domain and port, a mirror and a registry).
var examples = []string{"../../examples/seed/hosts.yaml", "../../examples/five/hosts.yaml", "../../examples/metal/hosts.yaml"}

func loadPlan(t testing.TB, path string) *plan.Plan {
	t.Helper()
	inv, rpt := inventory.Load(path)
	if rpt.HasErrors() {
		t.Fatalf("%s:\n%s", path, rpt.String())
	}
	p, err := plan.Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	bundlesMu sync.Mutex
	bundles   = map[string]*pki.Bundle{}
)

// testBundle issues (once per inventory, then reuses) a complete bundle.
func testBundle(t testing.TB, path string, p *plan.Plan) *pki.Bundle {
	t.Helper()
	bundlesMu.Lock()
	defer bundlesMu.Unlock()
	if b, ok := bundles[path]; ok {
		return b
	}
	b := pki.New()
	if _, err := b.Complete(p, pki.Options{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	bundles[path] = b
	return b
}

// generate runs the whole pipeline for an example inventory.
func generate(t testing.TB, path string) (*plan.Plan, *pki.Bundle, *Result) {
	t.Helper()
	p := loadPlan(t, path)
	b := testBundle(t, path, p)
	overlays := map[string][]byte{}
	for _, name := range append(append([]string(nil), p.Overlays...), hostOverlays(p)...) {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		overlays[name] = data
	}
	addons := map[string][]byte{}
	for _, name := range p.Addons {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		addons[name] = data
	}
	res, err := Generate(p, b, Options{EmitButane: true, Overlays: overlays, Addons: addons})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(filepath.Dir(path)), err)
	}
	return p, b, res
}
