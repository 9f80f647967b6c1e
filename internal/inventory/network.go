package inventory

import (
	"encoding/binary"
	"net/netip"
)

// clusterSubnetMaxDiff is kube-controller-manager's limit on how many bits
// longer a node subnet may be than the cluster CIDR it is cut from
// (kubernetes pkg/controller/nodeipam/ipam/cidrset/cidr_set.go).
const clusterSubnetMaxDiff = 16

// network checks the cluster's address plan: the service and pod CIDRs,
// the VIP, the DNS service address, the node subnet size and maxPods.
func (v *validator) network() {
	c := v.inv.Cluster
	const svcPath, podPath, vipPath = "cluster.serviceCIDR", "cluster.podCIDR", "cluster.apiServer.vip"
	if v.required(svcPath, c.ServiceCIDR) {
		p, problem := parseCIDR(c.ServiceCIDR)
		if v.check(svcPath, problem) {
			v.serviceCIDR = p
		}
	}
	if v.required(podPath, c.PodCIDR) {
		p, problem := parseCIDR(c.PodCIDR)
		if v.check(podPath, problem) {
			v.podCIDR = p
		}
	}
	svc, pod := v.serviceCIDR, v.podCIDR
	if svc.IsValid() && pod.IsValid() && svc.Overlaps(pod) {
		v.errorf(podPath, "%s overlaps %s; pod and service addresses must not mix", pod, v.ref(svcPath, svc.String()))
	}

	if v.required(vipPath, c.APIServer.VIP) {
		a, problem := parseIPv4(c.APIServer.VIP)
		if problem == "" {
			problem = unicastProblem(a)
		}
		if v.check(vipPath, problem) {
			v.vip = a
			v.outsideCIDRs(vipPath, a)
		}
	}

	v.dnsServiceIP()

	v.mask = DefaultNodeCIDRMaskSize
	const maskPath = "cluster.nodeCIDRMaskSize"
	if m := c.NodeCIDRMaskSize; v.given(maskPath, m) {
		v.mask = m
		if m < 1 || m > 32 {
			v.errorf(maskPath, "%d is not a prefix length in 1..32", m)
			v.mask = 0
		}
	}
	if v.mask > 0 && pod.IsValid() {
		at := podPath // the default mask does not fit: the pod CIDR is what the user wrote
		if v.set(maskPath) {
			at = maskPath
		}
		switch hosts := len(v.inv.Hosts); {
		case v.mask <= pod.Bits():
			v.errorf(at, "node subnets of /%d (cluster.nodeCIDRMaskSize, default %d) must be longer than the pod CIDR %s they are cut from", v.mask, DefaultNodeCIDRMaskSize, pod)
		case v.mask-pod.Bits() > clusterSubnetMaxDiff:
			v.errorf(at, "node subnets of /%d are more than %d bits longer than the pod CIDR %s; kube-controller-manager refuses that (use a longer pod CIDR prefix or a shorter nodeCIDRMaskSize)", v.mask, clusterSubnetMaxDiff, pod)
		case 1<<(v.mask-pod.Bits()) < hosts:
			v.errorf(at, "the pod CIDR %s holds %d node subnets of /%d, fewer than the %d hosts", pod, 1<<(v.mask-pod.Bits()), v.mask, hosts)
		}
	}

	const maxPodsPath = "cluster.maxPods"
	if n := c.MaxPods; v.given(maxPodsPath, n) {
		switch {
		case n < 1:
			v.errorf(maxPodsPath, "%d is not a positive number of pods", n)
		case v.mask > 0 && n > PodsPerNode(v.mask):
			v.errorf(maxPodsPath, "%d is more than the %d pod addresses a /%d node subnet holds (cluster.nodeCIDRMaskSize); lower maxPods or shorten nodeCIDRMaskSize", n, PodsPerNode(v.mask), v.mask)
		}
	}
}

// dnsServiceIP checks the cluster DNS service address, given or default.
// Kubernetes reserves the network and broadcast addresses of an IPv4
// service CIDR, and the first address is the kubernetes service.
func (v *validator) dnsServiceIP() {
	const path = "cluster.dnsServiceIP"
	svc := v.serviceCIDR
	s := v.inv.Cluster.DNSServiceIP
	if s == "" {
		if !svc.IsValid() {
			return
		}
		if a, ok := nthAddr(svc, DNSServiceIndex); !ok || a == lastAddr(svc) {
			v.errorf("cluster.serviceCIDR", "%s is too small for the default dnsServiceIP, its 10th address; use a /28 or larger, or set cluster.dnsServiceIP", svc)
		}
		return
	}
	a, problem := parseIPv4(s)
	if !v.check(path, problem) || !svc.IsValid() {
		return
	}
	first, _ := nthAddr(svc, 1)
	def, hasDef := nthAddr(svc, DNSServiceIndex)
	hint := ""
	if hasDef && def != lastAddr(svc) {
		hint = "; the default is " + def.String()
	}
	switch {
	case !svc.Contains(a):
		v.errorf(path, "%s is outside %s%s", a, v.ref("cluster.serviceCIDR", svc.String()), hint)
	case a == svc.Addr():
		v.errorf(path, "%s is the network address of the service CIDR %s%s", a, svc, hint)
	case a == first:
		v.errorf(path, "%s is the first address of the service CIDR, the ClusterIP of the default/kubernetes service%s", a, hint)
	case a == lastAddr(svc):
		v.errorf(path, "%s is the broadcast address of the service CIDR %s%s", a, svc, hint)
	}
}

// outsideCIDRs reports a host address or the VIP inside the service or pod
// CIDR: those ranges are routed to services and pods, not to hosts.
func (v *validator) outsideCIDRs(path string, a netip.Addr) {
	for _, r := range []struct {
		path string
		cidr netip.Prefix
	}{{"cluster.serviceCIDR", v.serviceCIDR}, {"cluster.podCIDR", v.podCIDR}} {
		if r.cidr.IsValid() && r.cidr.Contains(a) {
			v.errorf(path, "%s is inside %s; host addresses and the VIP must lie outside the service and pod CIDRs", a, v.ref(r.path, r.cidr.String()))
		}
	}
}

// nthAddr returns the n-th address of an IPv4 prefix (0 is the network
// address), or false when the prefix is too small.
func nthAddr(p netip.Prefix, n int) (netip.Addr, bool) {
	if n < 0 || uint64(n) >= uint64(1)<<(32-p.Bits()) {
		return netip.Addr{}, false
	}
	b := p.Masked().Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+uint32(n))
	return netip.AddrFrom4(b), true
}

// lastAddr returns the last (broadcast) address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])|(uint32(1)<<(32-p.Bits())-1))
	return netip.AddrFrom4(b)
}
