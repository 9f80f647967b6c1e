package inventory

import (
	"net/netip"
	"strings"
	"time"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/catalog"
)

// Defaults the plan applies that no check reads.
const (
	DefaultAPIServerPort = 6443
	// DefaultMaxPods is the kubelet's maxPods unless the node subnet holds
	// fewer addresses.
	DefaultMaxPods = 110
)

// Effective is every value kign uses in place of what the inventory wrote
// or left out: each default computed once, here, by the validator, from
// the same values its checks read (so a check never judges one value and
// the plan use another). Load and Validate set Inventory.Effective when the
// inventory has no error; plan.Build reads it and derives none of these
// itself.
type Effective struct {
	OS                string
	KubernetesVersion string
	Domain            string
	APIServerPort     int
	ServiceCIDR       netip.Prefix // masked
	PodCIDR           netip.Prefix // masked
	VIP               netip.Addr
	DNSServiceIP      netip.Addr
	NodeCIDRMaskSize  int
	MaxPods           int
	KeyAlgorithm      string
	CAValidity        time.Duration
	CertValidity      time.Duration
	// Artifacts is the catalog set of the version and arch with the
	// inventory's mirror, registry and overrides and the lock file's
	// hashes applied (ApplyArtifacts).
	Artifacts catalog.Set
	// Registry is where every image is pulled from when
	// artifacts.imageRegistry is set, with the CA containerd trusts for it.
	Registry Registry
	Image    images.Image
	Audit    AuditLog
	Boot     string
	Updates  string
	Hosts    []EffectiveHost // inventory order
}

// Registry is the image registry of artifacts.imageRegistry: Host is its
// HOST[:PORT] (the name containerd's certs.d folders use), CA the PEM of
// artifacts.imageRegistryCA, trimmed and ending in a newline ("" if unset).
type Registry struct {
	Host string
	CA   string
}

// EffectiveHost is one host's effective values.
type EffectiveHost struct {
	IP           netip.Addr
	Interface    string
	InstallDisk  string
	UpdateWindow Slot
}

// effective computes Effective from the validator's state. It runs only
// when the inventory has no error, so every value it reads was checked.
func (v *validator) effective() *Effective {
	inv := v.inv
	c := inv.Cluster
	e := &Effective{
		OS:                v.os,
		KubernetesVersion: v.version,
		Domain:            or(c.Domain, DefaultDomain),
		APIServerPort:     or(c.APIServer.Port, DefaultAPIServerPort),
		ServiceCIDR:       v.serviceCIDR.Masked(),
		PodCIDR:           v.podCIDR.Masked(),
		VIP:               v.vip,
		NodeCIDRMaskSize:  v.mask,
		MaxPods:           c.MaxPods,
		KeyAlgorithm:      or(inv.PKI.KeyAlgorithm, DefaultKeyAlgorithm),
		CAValidity:        v.caValidity,
		CertValidity:      v.certValidity,
		Artifacts:         ApplyArtifacts(v.catalogSet, inv.Artifacts, inv.Lock),
		Image:             v.image,
		Audit:             ResolveAudit(c.Audit),
		Boot:              or(inv.Delivery.Boot, BootInstall),
		Updates:           or(c.Updates.Strategy, UpdatesWindows),
	}
	if r := inv.Artifacts.ImageRegistry; r != "" {
		e.Registry.Host, _, _ = strings.Cut(strings.TrimRight(r, "/"), "/")
		if ca := strings.TrimSpace(inv.Artifacts.ImageRegistryCA); ca != "" {
			e.Registry.CA = ca + "\n"
		}
	}
	if e.MaxPods == 0 {
		e.MaxPods = min(DefaultMaxPods, PodsPerNode(e.NodeCIDRMaskSize))
	}
	if c.DNSServiceIP != "" {
		e.DNSServiceIP, _ = netip.ParseAddr(c.DNSServiceIP)
	} else {
		e.DNSServiceIP, _ = nthAddr(e.ServiceCIDR, DNSServiceIndex)
	}
	slots, _ := UpdateSlots(inv)
	for i, h := range inv.Hosts {
		ip, _ := netip.ParseAddr(h.IP)
		eh := EffectiveHost{IP: ip, Interface: or(h.Interface, c.Interface), InstallDisk: or(h.InstallDisk, or(c.InstallDisk, DefaultInstallDisk))}
		if i < len(slots) {
			eh.UpdateWindow = slots[i]
		}
		e.Hosts = append(e.Hosts, eh)
	}
	return e
}

// or is v, or def when v is the zero value (a field left out).
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
