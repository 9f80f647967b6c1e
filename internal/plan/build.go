package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
)

// Defaults applied when the inventory leaves a field out. The schema's own
// defaults live in package inventory, which validates the effective values.
const (
	DefaultOS               = inventory.DefaultOS
	DefaultDomain           = inventory.DefaultDomain
	DefaultNodeCIDRMaskSize = inventory.DefaultNodeCIDRMaskSize
	DefaultAPIServerPort    = 6443
	// DefaultMaxPods is the kubelet's maxPods unless the node subnet holds fewer addresses.
	DefaultMaxPods      = 110
	DefaultArch         = inventory.DefaultArch
	DefaultKeyAlgorithm = inventory.DefaultKeyAlgorithm
	DefaultCAValidity   = inventory.DefaultCAValidity
	DefaultCertValidity = inventory.DefaultCertValidity
	// TopPriority is the keepalived priority of the first host; each next host gets one less.
	TopPriority = 200
	// MaxHosts keeps every host's keepalived priority above zero.
	MaxHosts = inventory.MaxHosts
)

// Build derives the plan from an inventory that inventory.Load accepted.
// It fails only on input Load would have refused.
func Build(inv *inventory.Inventory) (*Plan, error) {
	c := inv.Cluster
	p := &Plan{
		ClusterName:       c.Name,
		KubernetesVersion: or(c.KubernetesVersion, catalog.Default()),
		Domain:            or(c.Domain, DefaultDomain),
		NodeCIDRMaskSize:  orInt(c.NodeCIDRMaskSize, DefaultNodeCIDRMaskSize),
		APIServerPort:     orInt(c.APIServer.Port, DefaultAPIServerPort),
		SSHAuthorizedKeys: append([]string(nil), c.SSHAuthorizedKeys...),
		MaxPods:           c.MaxPods,
		EtcdToken:         "kign-" + c.Name,
	}
	var err error
	if p.OS, err = osvariant.Lookup(or(c.OS, DefaultOS)); err != nil {
		return nil, fmt.Errorf("cluster.os: %w", err)
	}
	if p.ServiceCIDR, err = netip.ParsePrefix(c.ServiceCIDR); err != nil {
		return nil, fmt.Errorf("cluster.serviceCIDR: %w", err)
	}
	p.ServiceCIDR = p.ServiceCIDR.Masked()
	if p.PodCIDR, err = netip.ParsePrefix(c.PodCIDR); err != nil {
		return nil, fmt.Errorf("cluster.podCIDR: %w", err)
	}
	p.PodCIDR = p.PodCIDR.Masked()
	if p.MaxPods == 0 {
		p.MaxPods = min(DefaultMaxPods, inventory.PodsPerNode(p.NodeCIDRMaskSize))
	}
	p.APIServerServiceIP = NthAddr(p.ServiceCIDR, 1)
	if c.DNSServiceIP != "" {
		if p.DNSServiceIP, err = netip.ParseAddr(c.DNSServiceIP); err != nil {
			return nil, fmt.Errorf("cluster.dnsServiceIP: %w", err)
		}
	} else {
		p.DNSServiceIP = NthAddr(p.ServiceCIDR, inventory.DNSServiceIndex)
	}
	if p.VIP, err = netip.ParseAddr(c.APIServer.VIP); err != nil {
		return nil, fmt.Errorf("cluster.apiServer.vip: %w", err)
	}
	for _, san := range c.APIServer.ExtraSANs {
		if ip, err := netip.ParseAddr(san); err == nil {
			p.ExtraSANIPs = append(p.ExtraSANIPs, ip)
		} else {
			p.ExtraSANDNS = append(p.ExtraSANDNS, san)
		}
	}

	if len(inv.Hosts) > MaxHosts {
		return nil, fmt.Errorf("hosts: %d hosts, at most %d", len(inv.Hosts), MaxHosts)
	}
	base := filepath.Dir(inv.File)
	slots, _ := inventory.UpdateSlots(inv)
	var initial []string
	for i, h := range inv.Hosts {
		ip, err := netip.ParseAddr(h.IP)
		if err != nil {
			return nil, fmt.Errorf("hosts[%d].ip: %w", i, err)
		}
		host := Host{
			Index:              i,
			Name:               h.Name,
			IP:                 ip,
			Interface:          or(h.Interface, c.Interface),
			MAC:                strings.ToLower(h.MAC),
			KeepalivedPriority: TopPriority - i,
			Overlays:           resolve(base, h.Overlays),
			InstallDisk:        or(h.InstallDisk, or(c.InstallDisk, inventory.DefaultInstallDisk)),
			UpdateWindow:       slots[i],
		}
		if host.Network, err = staticNetwork(c.Network, h.Network, ip); err != nil {
			return nil, fmt.Errorf("hosts[%d].network: %w", i, err)
		}
		p.Hosts = append(p.Hosts, host)
		initial = append(initial, fmt.Sprintf("%s=https://%s", h.Name, netip.AddrPortFrom(ip, 2380)))
		p.EtcdClientEndpoints = append(p.EtcdClientEndpoints, "https://"+netip.AddrPortFrom(ip, 2379).String())
	}
	p.EtcdInitialCluster = strings.Join(initial, ",")
	p.Overlays = resolve(base, inv.Overlays)

	p.Keepalived = Keepalived{
		VirtualRouterID: c.Keepalived.VirtualRouterID,
		Password:        c.Keepalived.Password,
		VIPPrefixLen:    32,
	}
	if p.Keepalived.VirtualRouterID == 0 {
		p.Keepalived.VirtualRouterID = DeriveVirtualRouterID(c.Name, p.VIP)
	}
	if p.Keepalived.Password == "" {
		p.Keepalived.Password = DeriveVRRPPassword(c.Name, p.VIP)
	}

	p.PKI = PKIOptions{KeyAlgorithm: or(inv.PKI.KeyAlgorithm, DefaultKeyAlgorithm), CAValidity: DefaultCAValidity, CertValidity: DefaultCertValidity}
	if inv.PKI.CAValidity != "" {
		if p.PKI.CAValidity, err = time.ParseDuration(inv.PKI.CAValidity); err != nil {
			return nil, fmt.Errorf("pki.caValidity: %w", err)
		}
	}
	if inv.PKI.CertValidity != "" {
		if p.PKI.CertValidity, err = time.ParseDuration(inv.PKI.CertValidity); err != nil {
			return nil, fmt.Errorf("pki.certValidity: %w", err)
		}
	}

	set, err := catalog.Lookup(p.KubernetesVersion, or(inv.Artifacts.Arch, DefaultArch))
	if err != nil {
		return nil, err
	}
	if p.Artifacts, err = ApplyArtifacts(set, inv.Artifacts, inv.Lock); err != nil {
		return nil, err
	}
	if p.Image, err = images.Lookup(p.OS.Name, inv.Images.Stream, inv.Images.Version, set.Arch, inv.Images.Mirror); err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	p.DeliveryURL = strings.TrimRight(inv.Delivery.URL, "/")
	p.Boot = or(inv.Delivery.Boot, inventory.BootInstall)
	p.Updates = or(c.Updates.Strategy, inventory.UpdatesWindows)
	p.Audit = inventory.ResolveAudit(c.Audit)
	p.AllowPodsOnMasters = c.AllowPodsOnMasters
	p.FeatureGates, p.Components = c.FeatureGates, c.Components
	p.APIServerAuthentication = c.APIServer.Authentication
	p.Addons = resolve(base, inv.Addons)
	return p, nil
}

// staticNetwork is a host's static addressing from its own network
// settings over the cluster's, or nil for DHCP.
func staticNetwork(c inventory.Network, h inventory.HostNetwork, ip netip.Addr) (*StaticNetwork, error) {
	var n StaticNetwork
	switch {
	case h.Address != "":
		pfx, err := netip.ParsePrefix(h.Address)
		if err != nil {
			return nil, err
		}
		n.Address = pfx
	case c.PrefixLength > 0:
		n.Address = netip.PrefixFrom(ip, c.PrefixLength)
	default:
		return nil, nil
	}
	gw := or(h.Gateway, c.Gateway)
	if gw != "" {
		a, err := netip.ParseAddr(gw)
		if err != nil {
			return nil, err
		}
		n.Gateway = a
	}
	dns := c.DNS
	if h.DNS != nil {
		dns = h.DNS
	}
	for _, d := range dns {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return nil, err
		}
		n.DNS = append(n.DNS, a)
	}
	return &n, nil
}

// NthAddr returns the n-th address of prefix (0 is the network address).
func NthAddr(prefix netip.Prefix, n int) netip.Addr {
	a := prefix.Masked().Addr()
	for i := 0; i < n; i++ {
		a = a.Next()
	}
	return a
}

// DeriveVirtualRouterID maps a cluster to a VRRP router id in 1..255, so
// that two kign clusters on one segment are unlikely to collide
// (openshift/enhancements#230); set cluster.keepalived.virtualRouterID to pick one.
func DeriveVirtualRouterID(cluster string, vip netip.Addr) int {
	h := fnv.New32a()
	h.Write([]byte(cluster + "/" + vip.String()))
	return int(h.Sum32()%255) + 1
}

// DeriveVRRPPassword derives the 8-character VRRP PASS secret (keepalived
// uses at most 8 characters) from the cluster. It only keeps clusters on a
// shared segment apart; VRRP PASS is not a security boundary.
func DeriveVRRPPassword(cluster string, vip netip.Addr) string {
	sum := sha256.Sum256([]byte("kign-vrrp/" + cluster + "/" + vip.String()))
	return hex.EncodeToString(sum[:])[:8]
}

func resolve(base string, paths []string) []string {
	var out []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		out = append(out, p)
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(i, def int) int {
	if i == 0 {
		return def
	}
	return i
}
