package inventory

import "testing"

func TestValidateAddresses(t *testing.T) {
	const svc, pod, vip, ip = "10.96.0.0/12", "10.244.0.0/16", "192.168.1.10", "192.168.1.11"
	runCases(t, []diagCase{
		{name: "valid", yaml: netDoc(svc, pod, vip, "", ip)},
		{name: "VIP not an address", yaml: netDoc(svc, pod, "192.168.1.300", "", ip),
			want: []string{`hosts.yaml:6:20: cluster.apiServer.vip: "192.168.1.300" is not an IPv4 address$`}},
		{name: "VIP is IPv6", yaml: netDoc(svc, pod, "fd00::10", "", ip),
			want: []string{`hosts.yaml:6:20: cluster.apiServer.vip: fd00::10 is an IPv6 address; kign supports IPv4 only for now$`}},
		{name: "VIP is multicast", yaml: netDoc(svc, pod, "224.0.0.18", "", ip),
			want: []string{`hosts.yaml:6:20: cluster.apiServer.vip: 224.0.0.18 is a multicast address; a host needs an address the other hosts can reach$`}},
		{name: "host address truncated", yaml: netDoc(svc, pod, vip, "", "192.168.1"),
			want: []string{`hosts.yaml:9:20: hosts[0].ip: "192.168.1" is not an IPv4 address$`}},
		{name: "host address is loopback", yaml: netDoc(svc, pod, vip, "", "127.0.0.1"),
			want: []string{`hosts.yaml:9:20: hosts[0].ip: 127.0.0.1 is a loopback address; a host needs an address the other hosts can reach$`}},
		{name: "CIDR without prefix length", yaml: netDoc("10.96.0.0", pod, vip, "", ip),
			want: []string{`hosts.yaml:3:16: cluster.serviceCIDR: "10.96.0.0" has no prefix length (expected ADDRESS/BITS, e.g. 10.96.0.0/16)$`}},
		{name: "CIDR prefix too long", yaml: netDoc("10.96.0.0/33", pod, vip, "", ip),
			want: []string{`hosts.yaml:3:16: cluster.serviceCIDR: "10.96.0.0/33" is not an IPv4 CIDR (expected ADDRESS/BITS, e.g. 10.96.0.0/12)$`}},
		{name: "CIDR is IPv6", yaml: netDoc(svc, "fd00:10::/56", vip, "", ip),
			want: []string{`hosts.yaml:4:12: cluster.podCIDR: fd00:10::/56 is an IPv6 network; kign supports IPv4 only for now$`}},
		{name: "CIDR with host bits", yaml: netDoc("10.99.66.5/23", pod, vip, "", ip),
			want: []string{`hosts.yaml:3:16: cluster.serviceCIDR: 10.99.66.5/23 has host bits set; did you mean 10.99.66.0/23?$`}},
		{name: "pod CIDR overlaps service CIDR", yaml: netDoc(svc, "10.96.0.0/16", vip, "", ip),
			want: []string{`hosts.yaml:4:12: cluster.podCIDR: 10.96.0.0/16 overlaps cluster.serviceCIDR 10.96.0.0/12 (line 3); pod and service addresses must not mix$`}},
		{name: "host address inside service CIDR", yaml: netDoc(svc, pod, vip, "", "10.96.0.50"),
			want: []string{`hosts.yaml:9:20: hosts[0].ip: 10.96.0.50 is inside cluster.serviceCIDR 10.96.0.0/12 (line 3); host addresses and the VIP must lie outside the service and pod CIDRs$`}},
		{name: "VIP inside pod CIDR", yaml: netDoc(svc, pod, "10.244.1.1", "", ip),
			want: []string{`hosts.yaml:6:20: cluster.apiServer.vip: 10.244.1.1 is inside cluster.podCIDR 10.244.0.0/16 (line 4);`}},
		{name: "VIP is a host address", yaml: netDoc(svc, pod, ip, "", ip),
			want: []string{`hosts.yaml:6:20: cluster.apiServer.vip: 192.168.1.11 is also hosts[0].ip (line 9); the VIP must be an address no host owns, which keepalived moves between hosts$`}},
	})
}

func TestValidateDNSServiceIP(t *testing.T) {
	const pod, vip, ip = "10.244.0.0/16", "192.168.1.10", "192.168.1.11"
	dns := func(svc, addr string) string { return netDoc(svc, pod, vip, "dnsServiceIP: "+addr, ip) }
	runCases(t, []diagCase{
		{name: "explicit address in a /30", yaml: dns("10.96.0.0/30", "10.96.0.2")},
		{name: "not an address", yaml: dns("10.96.0.0/12", "10.96.0.x"),
			want: []string{`hosts.yaml:7:17: cluster.dnsServiceIP: "10.96.0.x" is not an IPv4 address$`}},
		{name: "outside the service CIDR", yaml: dns("10.96.0.0/12", "10.112.0.10"),
			want: []string{`hosts.yaml:7:17: cluster.dnsServiceIP: 10.112.0.10 is outside cluster.serviceCIDR 10.96.0.0/12 (line 3); the default is 10.96.0.10$`}},
		{name: "network address", yaml: dns("10.96.0.0/12", "10.96.0.0"),
			want: []string{`hosts.yaml:7:17: cluster.dnsServiceIP: 10.96.0.0 is the network address of the service CIDR 10.96.0.0/12; the default is 10.96.0.10$`}},
		{name: "kubernetes service address", yaml: dns("10.96.0.0/12", "10.96.0.1"),
			want: []string{`hosts.yaml:7:17: cluster.dnsServiceIP: 10.96.0.1 is the first address of the service CIDR, the ClusterIP of the default/kubernetes service; the default is 10.96.0.10$`}},
		{name: "broadcast address", yaml: dns("10.96.0.0/12", "10.111.255.255"),
			want: []string{`hosts.yaml:7:17: cluster.dnsServiceIP: 10.111.255.255 is the broadcast address of the service CIDR 10.96.0.0/12; the default is 10.96.0.10$`}},
		{name: "default in a /28", yaml: netDoc("10.96.0.0/28", pod, vip, "", ip)},
		{name: "default in a /29", yaml: netDoc("10.96.0.0/29", pod, vip, "", ip),
			want: []string{`hosts.yaml:3:16: cluster.serviceCIDR: 10.96.0.0/29 is too small for the default dnsServiceIP, its 10th address; use a /28 or larger, or set cluster.dnsServiceIP$`}},
		{name: "default in a /30", yaml: netDoc("10.96.0.0/30", pod, vip, "", ip),
			want: []string{`hosts.yaml:3:16: cluster.serviceCIDR: 10.96.0.0/30 is too small for the default dnsServiceIP`}},
	})
}

func TestValidateNodeSubnets(t *testing.T) {
	const svc, vip, ip = "10.96.0.0/12", "192.168.1.10", "192.168.1.11"
	runCases(t, []diagCase{
		{name: "node mask equal to pod prefix", yaml: netDoc(svc, "10.244.0.0/16", vip, "nodeCIDRMaskSize: 16", ip),
			want: []string{`hosts.yaml:7:21: cluster.nodeCIDRMaskSize: node subnets of /16 (cluster.nodeCIDRMaskSize, default 24) must be longer than the pod CIDR 10.244.0.0/16 they are cut from$`}},
		{name: "default node mask in a /24 pod CIDR", yaml: netDoc(svc, "10.244.0.0/24", vip, "", ip),
			want: []string{`hosts.yaml:4:12: cluster.podCIDR: node subnets of /24 (cluster.nodeCIDRMaskSize, default 24) must be longer than the pod CIDR 10.244.0.0/24 they are cut from$`}},
		{name: "more than 16 bits of node subnets", yaml: netDoc(svc, "12.0.0.0/7", vip, "", ip),
			want: []string{`hosts.yaml:4:12: cluster.podCIDR: node subnets of /24 are more than 16 bits longer than the pod CIDR 12.0.0.0/7; kube-controller-manager refuses that`}},
		{name: "maxPods fits a /23", yaml: netDoc(svc, "10.244.0.0/16", vip, "nodeCIDRMaskSize: 23", ip)},
		{name: "fewer node subnets than hosts", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/24
			  nodeCIDRMaskSize: 25
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			  - {name: m1, ip: 192.168.1.12}
			  - {name: m2, ip: 192.168.1.13}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:5:21: cluster.nodeCIDRMaskSize: the pod CIDR 10.244.0.0/24 holds 2 node subnets of /25, fewer than the 3 hosts$`}},
	})
}
