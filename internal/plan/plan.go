// Package plan derives, from a validated inventory, the pure per-cluster and
// per-host model every later stage reads: addresses, names, the etcd initial
// cluster, keepalived parameters and the resolved artifact set. It does no
// I/O and holds no secrets.
package plan

import (
	"net/netip"
	"time"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
)

// Plan is the derived model of one cluster.
type Plan struct {
	ClusterName string
	// OS is the row of the cluster's OS: every OS fact a stage needs.
	OS                osvariant.OS
	KubernetesVersion string // "v1.36.4"
	Domain            string // cluster.local
	ServiceCIDR       netip.Prefix
	PodCIDR           netip.Prefix
	NodeCIDRMaskSize  int
	// APIServerServiceIP is the first address of ServiceCIDR: the ClusterIP
	// of the default/kubernetes service, which the apiserver certificate must name.
	APIServerServiceIP netip.Addr
	DNSServiceIP       netip.Addr
	VIP                netip.Addr
	APIServerPort      int
	// ExtraSANDNS and ExtraSANIPs split apiServer.extraSANs by kind, inventory order.
	ExtraSANDNS       []string
	ExtraSANIPs       []netip.Addr
	SSHAuthorizedKeys []string
	MaxPods           int

	Hosts []Host // inventory order

	// EtcdInitialCluster is name=https://ip:2380,... in inventory order.
	EtcdInitialCluster string
	// EtcdClientEndpoints is https://ip:2379,... in inventory order.
	EtcdClientEndpoints []string
	// EtcdToken is the --initial-cluster-token, derived from the cluster name.
	EtcdToken string

	Keepalived Keepalived
	PKI        PKIOptions
	Artifacts  catalog.Set // after mirror and overrides
	// Registry is artifacts.imageRegistry's host and the CA containerd
	// trusts for it (empty when the inventory sets none).
	Registry inventory.Registry

	// Overlays are cluster-wide Butane fragment paths, resolved against the inventory's folder.
	Overlays []string

	// Image is the OS release hosts boot over PXE or from an ISO.
	Image images.Image
	// DeliveryURL is the base URL of `kign serve` as hosts reach it; empty
	// when the inventory sets no delivery.url (no pointer configs then).
	DeliveryURL string
	// Boot is inventory.BootInstall (PXE and ISO boots install to disk) or
	// inventory.BootLive (the masters run from RAM).
	Boot string
	// Updates is inventory.UpdatesWindows or inventory.UpdatesOff.
	Updates string
	// Audit is kube-apiserver's audit log (inventory.ResolveAudit).
	Audit inventory.AuditLog
	// AllowPodsOnMasters drops the control-plane taint.
	AllowPodsOnMasters bool
	// FeatureGates and Components are the inventory's, validated.
	FeatureGates map[string]bool
	Components   inventory.Components
	// APIServerAuthentication holds the inventory's fields of the
	// apiserver's AuthenticationConfiguration (its JWT authenticators).
	APIServerAuthentication inventory.ConfigFields
	// Addons are the inventory's add-on manifest paths, resolved against
	// the inventory's folder, in apply order.
	Addons []string
}

// Host is one control-plane machine.
type Host struct {
	Index     int // position in the inventory, from 0
	Name      string
	IP        netip.Addr
	Interface string // resolved: host's own or the cluster default
	MAC       string // lower-case, colon-separated; may be empty
	// KeepalivedPriority is distinct per host: the first host is the preferred VIP holder.
	KeepalivedPriority int
	// Overlays are this host's Butane fragment paths, resolved against the inventory's folder.
	Overlays []string
	// InstallDisk is the disk a live boot installs the OS to.
	InstallDisk string
	// Network is the host's static addressing; nil: DHCP (with a
	// reservation for IP, which every certificate names).
	Network *StaticNetwork
	// UpdateWindow is when the OS's update agent may reboot this host;
	// no two hosts' windows overlap (inventory.UpdateSlots).
	UpdateWindow inventory.Slot
}

// StaticNetwork is static IPv4 addressing on a host's interface.
type StaticNetwork struct {
	Address netip.Prefix // the host's IP with its subnet's prefix length
	Gateway netip.Addr   // may be invalid: no default route
	DNS     []netip.Addr
}

// Keepalived holds the VRRP parameters shared by every host.
type Keepalived struct {
	VirtualRouterID int
	Password        string
	// VIPPrefixLen is the prefix length the VIP is added with (32: a host route).
	VIPPrefixLen int
}

// PKIOptions are the certificate parameters.
type PKIOptions struct {
	KeyAlgorithm string // rsa | ecdsa
	CAValidity   time.Duration
	CertValidity time.Duration
}

// Host returns the host named name.
func (p *Plan) Host(name string) (Host, bool) {
	for _, h := range p.Hosts {
		if h.Name == name {
			return h, true
		}
	}
	return Host{}, false
}

// APIServerEndpoint is https://VIP:port, what every out-of-host client uses.
func (p *Plan) APIServerEndpoint() string {
	return "https://" + netip.AddrPortFrom(p.VIP, uint16(p.APIServerPort)).String()
}

// LocalAPIServerEndpoint is the host-local apiserver, for components on the same host.
func (p *Plan) LocalAPIServerEndpoint() string {
	return "https://" + netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(p.APIServerPort)).String()
}
