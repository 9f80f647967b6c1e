package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
)

// Defaults applied when the inventory leaves a field out: package
// inventory's, which its validator applies once (inventory.Effective).
const (
	DefaultOS               = inventory.DefaultOS
	DefaultDomain           = inventory.DefaultDomain
	DefaultNodeCIDRMaskSize = inventory.DefaultNodeCIDRMaskSize
	DefaultAPIServerPort    = inventory.DefaultAPIServerPort
	DefaultMaxPods          = inventory.DefaultMaxPods
	DefaultArch             = inventory.DefaultArch
	DefaultKeyAlgorithm     = inventory.DefaultKeyAlgorithm
	DefaultCAValidity       = inventory.DefaultCAValidity
	DefaultCertValidity     = inventory.DefaultCertValidity
	// TopPriority is the keepalived priority of the first host; each next host gets one less.
	TopPriority = 200
	// MaxHosts keeps every host's keepalived priority above zero.
	MaxHosts = inventory.MaxHosts
)

// Build derives the plan from an inventory that inventory.Load (or
// Validate) accepted: its effective values (inventory.Effective, every
// default applied once by the validator) and what follows from them.
func Build(inv *inventory.Inventory) (*Plan, error) {
	if inv.Effective == nil {
		// An inventory built in code: validate it here, once.
		if rep := inventory.Validate(inv); rep.HasErrors() {
			return nil, fmt.Errorf("%s", rep.Errors()[0])
		}
	}
	e := inv.Effective
	if e == nil {
		return nil, fmt.Errorf("%s: the inventory has errors", inv.File)
	}
	c := inv.Cluster
	p := &Plan{
		ClusterName:        c.Name,
		KubernetesVersion:  e.KubernetesVersion,
		Domain:             e.Domain,
		NodeCIDRMaskSize:   e.NodeCIDRMaskSize,
		APIServerPort:      e.APIServerPort,
		SSHAuthorizedKeys:  append([]string(nil), c.SSHAuthorizedKeys...),
		MaxPods:            e.MaxPods,
		EtcdToken:          "kign-" + c.Name,
		ServiceCIDR:        e.ServiceCIDR,
		PodCIDR:            e.PodCIDR,
		APIServerServiceIP: NthAddr(e.ServiceCIDR, 1),
		DNSServiceIP:       e.DNSServiceIP,
		VIP:                e.VIP,
		Artifacts:          e.Artifacts,
		Registry:           e.Registry,
		Image:              e.Image,
		Boot:               e.Boot,
		Updates:            e.Updates,
		Audit:              e.Audit,
		PKI:                PKIOptions{KeyAlgorithm: e.KeyAlgorithm, CAValidity: e.CAValidity, CertValidity: e.CertValidity},
	}
	var err error
	if p.OS, err = osvariant.Lookup(e.OS); err != nil {
		return nil, fmt.Errorf("cluster.os: %w", err)
	}
	for _, san := range c.APIServer.ExtraSANs {
		if ip, err := netip.ParseAddr(san); err == nil {
			p.ExtraSANIPs = append(p.ExtraSANIPs, ip)
		} else {
			p.ExtraSANDNS = append(p.ExtraSANDNS, san)
		}
	}

	base := filepath.Dir(inv.File)
	var initial []string
	for i, h := range inv.Hosts {
		eh := e.Hosts[i]
		host := Host{
			Index:              i,
			Name:               h.Name,
			IP:                 eh.IP,
			Interface:          eh.Interface,
			MAC:                strings.ToLower(h.MAC),
			KeepalivedPriority: TopPriority - i,
			Overlays:           resolve(base, h.Overlays),
			InstallDisk:        eh.InstallDisk,
			UpdateWindow:       eh.UpdateWindow,
		}
		if host.Network, err = staticNetwork(c.Network, h.Network, eh.IP); err != nil {
			return nil, fmt.Errorf("hosts[%d].network: %w", i, err)
		}
		p.Hosts = append(p.Hosts, host)
		initial = append(initial, fmt.Sprintf("%s=https://%s", h.Name, netip.AddrPortFrom(eh.IP, 2380)))
		p.EtcdClientEndpoints = append(p.EtcdClientEndpoints, "https://"+netip.AddrPortFrom(eh.IP, 2379).String())
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
	p.DeliveryURL = strings.TrimRight(inv.Delivery.URL, "/")
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

// or is s, or def when s is empty: a host's own network setting over the
// cluster's.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
