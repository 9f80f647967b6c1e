package plan

import (
	"net/netip"
	"testing"

	"github.com/kign-project/kign/internal/inventory"
)

func TestNthAddr(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		n      int
		want   string
	}{
		{"10.99.66.0/23", 1, "10.99.66.1"},   // the seed's apiserver service IP (the guide wrongly used 10.101.66.1)
		{"10.99.66.0/23", 10, "10.99.66.10"}, // kign's default DNS IP
		{"10.99.66.0/23", 300, "10.99.67.44"},
		{"10.96.0.0/12", 1, "10.96.0.1"},
	} {
		if got := NthAddr(netip.MustParsePrefix(tc.prefix), tc.n); got.String() != tc.want {
			t.Errorf("NthAddr(%s, %d) = %s, want %s", tc.prefix, tc.n, got, tc.want)
		}
	}
}

func TestPodsPerNode(t *testing.T) {
	for mask, want := range map[int]int{24: 253, 27: 29, 22: 1021, 30: 1} {
		if got := inventory.PodsPerNode(mask); got != want {
			t.Errorf("PodsPerNode(%d) = %d, want %d", mask, got, want)
		}
	}
}

func TestDerivedKeepalivedValues(t *testing.T) {
	vip := netip.MustParseAddr("10.22.108.250")
	id := DeriveVirtualRouterID("seed", vip)
	if id < 1 || id > 255 {
		t.Fatalf("virtual router id %d out of 1..255", id)
	}
	if id != DeriveVirtualRouterID("seed", vip) {
		t.Fatal("virtual router id is not deterministic")
	}
	pw := DeriveVRRPPassword("seed", vip)
	if len(pw) != 8 || pw != DeriveVRRPPassword("seed", vip) || pw == DeriveVRRPPassword("other", vip) {
		t.Fatalf("password %q: want 8 deterministic characters that differ per cluster", pw)
	}
}

// Build takes every defaulted value from inventory.Effective, which the
// validator computed, rather than deriving its own.
func TestBuildReadsEffective(t *testing.T) {
	inv, rep := inventory.Load("../../examples/seed/hosts.yaml")
	if rep.HasErrors() {
		t.Fatal(rep)
	}
	inv.Effective.Domain = "effective.test"
	inv.Effective.MaxPods = 7
	inv.Effective.Hosts[1].InstallDisk = "/dev/vdz"
	p, err := Build(inv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Domain != "effective.test" || p.MaxPods != 7 || p.Hosts[1].InstallDisk != "/dev/vdz" {
		t.Fatalf("plan domain %s, maxPods %d, install disk %s: not the effective values", p.Domain, p.MaxPods, p.Hosts[1].InstallDisk)
	}
}
