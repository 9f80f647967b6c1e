package inventory

import (
	"fmt"
	"net/netip"
	"strings"
)

// hosts checks the host list: its size, each host's fields, that names,
// addresses and MACs are unique and that no host holds the VIP.
func (v *validator) hosts() {
	hosts := v.inv.Hosts
	switch n := len(hosts); {
	case n == 0:
		v.errorf("hosts", "no hosts: list at least one control-plane host%s", example("hosts"))
	case n > MaxHosts:
		v.errorf("hosts", "%d hosts, at most %d (keepalived priorities count down from 200 and must stay above 0)", n, MaxHosts)
	case n%2 == 0:
		v.warnf("hosts", "etcd quorum gains nothing from an even member count: %d hosts tolerate the same failures as %d", n, n-1)
	}

	// first index of each name, address and MAC, to report repeats at the later host
	names := map[string]int{}
	ips := map[netip.Addr]int{}
	macs := map[string]int{}
	for i, h := range hosts {
		p := fmt.Sprintf("hosts[%d]", i)
		if v.required(p+".name", h.Name) && v.check(p+".name", labelProblem(h.Name)) {
			unique(v, names, h.Name, i, "name", fmt.Sprintf("name %q", h.Name))
		}
		if v.required(p+".ip", h.IP) {
			a, problem := parseIPv4(h.IP)
			if problem == "" {
				problem = unicastProblem(a)
			}
			if v.check(p+".ip", problem) {
				unique(v, ips, a, i, "ip", "address "+a.String())
				v.outsideCIDRs(p+".ip", a)
				if a == v.vip {
					v.errorf("cluster.apiServer.vip", "%s is also %s; the VIP must be an address no host owns, which keepalived moves between hosts", a, v.ref(p+".ip", ""))
				}
			}
		}
		switch {
		case h.Interface != "":
			v.check(p+".interface", ifnameProblem(h.Interface))
		case v.inv.Cluster.Interface == "" && !v.skip("cluster.interface"):
			v.errorf(p+".interface", "no network interface: set hosts[%d].interface, or cluster.interface for every host", i)
		}
		if h.MAC != "" && v.check(p+".mac", macProblem(h.MAC)) {
			unique(v, macs, strings.ToLower(h.MAC), i, "mac", "MAC "+strings.ToLower(h.MAC))
		}
		for j, o := range h.Overlays {
			v.check(fmt.Sprintf("%s.overlays[%d]", p, j), overlayProblem(o))
		}
	}
}

// unique records that host i uses key for field, or reports that an
// earlier host already does.
func unique[K comparable](v *validator, seen map[K]int, key K, i int, field, what string) {
	j, dup := seen[key]
	if !dup {
		seen[key] = i
		return
	}
	first := fmt.Sprintf("hosts[%d]", j)
	if pos, ok := v.inv.Positions[first+"."+field]; ok && pos.Line > 0 {
		first += fmt.Sprintf(" at line %d", pos.Line)
	}
	v.errorf(fmt.Sprintf("hosts[%d].%s", i, field), "%s is also used by %s", what, first)
}
