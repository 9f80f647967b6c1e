package gen

import (
	"fmt"
	"testing"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

// syntheticPlan is an n-host cluster with a complete (ECDSA) bundle.
func syntheticPlanT(b testing.TB, n int) (*plan.Plan, *pki.Bundle) {
	b.Helper()
	inv := &inventory.Inventory{
		File: "synthetic.yaml",
		Cluster: inventory.Cluster{
			Name: "bench", ServiceCIDR: "10.96.0.0/12", PodCIDR: "10.128.0.0/10", Interface: "eth0",
			APIServer: inventory.APIServer{VIP: "192.168.255.250"},
		},
		PKI:       inventory.PKI{KeyAlgorithm: "ecdsa"},
		Artifacts: inventory.Artifacts{AllowUnverified: []string{"flanneld", "flannel-cni-plugin"}},
	}
	for i := 0; i < n; i++ {
		inv.Hosts = append(inv.Hosts, inventory.Host{Name: fmt.Sprintf("m%03d", i), IP: fmt.Sprintf("192.168.%d.%d", i/200, 10+i%200)})
	}
	if rpt := inventory.Validate(inv); rpt.HasErrors() {
		b.Fatal(rpt.String())
	}
	p, err := plan.Build(inv)
	if err != nil {
		b.Fatal(err)
	}
	bundle := pki.New()
	if _, err := bundle.Complete(p, pki.Options{Now: testNow}); err != nil {
		b.Fatal(err)
	}
	return p, bundle
}

// BenchmarkHost is warm generation (PKI present) of one host's config:
// render, merge, Butane translation and Ignition validation.
func BenchmarkHost(b *testing.B) {
	p, bundle := syntheticPlanT(b, 3)
	addons, err := render.Addons(p, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Host(p, bundle, p.Hosts[i%3], nil, addons, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerate100 is warm generation of 100 hosts' configs in one run
// (all cores), with every delivery file (iPXE script, xz-wrapped initrd);
// ns/op divided by 100 is the per-host wall time. `make bench-gen` runs it
// with Go's default GC and with the CLI's GOGC=400.
func BenchmarkGenerate100(b *testing.B) {
	p, bundle := syntheticPlanT(b, 100)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Generate(p, bundle, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/100, "ms/host")
}
