package inventory_test

import (
	"net/netip"
	"testing"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/plan"
)

// The default DNS service address the validator checks is the one the
// plan uses: both read Effective, computed once. An inventory changed in
// code after Load is validated again when its Effective is dropped.
func TestDefaultDNSServiceIPMatchesPlan(t *testing.T) {
	inv, rep := inventory.Load("../../examples/seed/hosts.yaml")
	if rep.HasErrors() {
		t.Fatal(rep)
	}
	inv.Cluster.DNSServiceIP = ""
	inv.Effective = nil
	p, err := plan.Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	svc := netip.MustParsePrefix(inv.Cluster.ServiceCIDR)
	if want := inventory.NthAddr(svc, inventory.DNSServiceIndex); p.DNSServiceIP != want {
		t.Errorf("plan's default dnsServiceIP is %s, the validator assumes %s", p.DNSServiceIP, want)
	}
}
