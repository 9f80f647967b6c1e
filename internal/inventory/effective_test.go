package inventory

import (
	"net/netip"
	"testing"

	"github.com/kign-project/kign/internal/catalog"
)

// A minimal inventory's effective values are the documented defaults,
// computed by the validator; an inventory with an error has none.
func TestEffectiveDefaults(t *testing.T) {
	inv, rep := Parse("hosts.yaml", []byte(dedent(topDoc(""))))
	if rep.HasErrors() {
		t.Fatal(rep)
	}
	e := inv.Effective
	if e == nil {
		t.Fatal("no effective values for a valid inventory")
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"os", e.OS, DefaultOS},
		{"version", e.KubernetesVersion, catalog.Default()},
		{"domain", e.Domain, DefaultDomain},
		{"port", e.APIServerPort, DefaultAPIServerPort},
		{"mask", e.NodeCIDRMaskSize, DefaultNodeCIDRMaskSize},
		{"maxPods", e.MaxPods, DefaultMaxPods},
		{"service CIDR", e.ServiceCIDR, netip.MustParsePrefix("10.96.0.0/12")},
		{"DNS", e.DNSServiceIP, netip.MustParseAddr("10.96.0.10")},
		{"key", e.KeyAlgorithm, DefaultKeyAlgorithm},
		{"CA validity", e.CAValidity, DefaultCAValidity},
		{"arch", e.Artifacts.Arch, DefaultArch},
		{"image arch", e.Image.Arch, DefaultArch},
		{"boot", e.Boot, BootInstall},
		{"updates", e.Updates, UpdatesWindows},
		{"install disk", e.Hosts[0].InstallDisk, DefaultInstallDisk},
		{"interface", e.Hosts[0].Interface, "eth0"},
		{"audit", e.Audit.MaxAgeDays, DefaultAuditMaxAgeDays},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	bad, rep := Parse("hosts.yaml", []byte(dedent(topDoc("pki: {keyAlgorithm: dsa}"))))
	if !rep.HasErrors() || bad.Effective != nil {
		t.Fatalf("an inventory with an error has effective values: %v", rep)
	}
}
