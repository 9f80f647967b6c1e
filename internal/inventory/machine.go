package inventory

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/kign-project/kign/internal/osvariant"
)

// Boot paths (delivery.boot).
const (
	BootInstall = "install"
	BootLive    = "live"
)

// DefaultInstallDisk is the install disk of a host that names none, as in
// typhoon's bare-metal modules (install_disk = "/dev/sda"). A stable
// /dev/disk/by-id/ or /dev/disk/by-path/ name is safer: /dev/sdX names
// follow probe order.
const DefaultInstallDisk = "/dev/sda"

// devicePath is what an install disk may look like: a device node below
// /dev, safe to put on a kernel command line and into a unit file.
var devicePath = regexp.MustCompile(`^/dev/[A-Za-z0-9._:+@/-]+$`)

// installDiskProblem checks an install disk path.
func installDiskProblem(s string) string {
	switch {
	case !strings.HasPrefix(s, "/"):
		return fmt.Sprintf("%q is not an absolute device path; name the disk as /dev/disk/by-id/..., /dev/disk/by-path/... or /dev/sda", clip(s))
	case !devicePath.MatchString(s) || path.Clean(s) != s || s == "/dev" || strings.HasPrefix(s, "/dev/disk/by-") && strings.Count(s, "/") < 4:
		return fmt.Sprintf("%q is not a device path below /dev (e.g. /dev/disk/by-id/wwn-0x5000c500a0b1c2d3 or /dev/sda)", clip(s))
	}
	return ""
}

// machine checks what decides how each host is installed, addressed and
// updated: install disks, static networks, update windows, the boot path.
func (v *validator) machine() {
	c := v.inv.Cluster
	if c.InstallDisk != "" {
		v.check("cluster.installDisk", installDiskProblem(c.InstallDisk))
	}
	if b := v.inv.Delivery.Boot; b != "" {
		v.oneOf("delivery.boot", b, BootInstall, BootLive)
	}
	for i, h := range v.inv.Hosts {
		if h.InstallDisk != "" {
			v.check(fmt.Sprintf("hosts[%d].installDisk", i), installDiskProblem(h.InstallDisk))
		}
	}
	v.staticNetwork()
	v.updates()
}

// staticNetwork checks cluster.network and every hosts[].network.
func (v *validator) staticNetwork() {
	n := v.inv.Cluster.Network
	const np = "cluster.network"
	clusterLen := 0
	if l := n.PrefixLength; v.given(np+".prefixLength", l) {
		if l < 1 || l > 30 {
			v.errorf(np+".prefixLength", "%d is not a prefix length for a host's subnet (1..30)", l)
		} else {
			clusterLen = l
		}
	}
	clusterGW := v.addr(np+".gateway", n.Gateway)
	for i, d := range n.DNS {
		v.addr(fmt.Sprintf("%s.dns[%d]", np, i), d)
	}
	// A host without its own address takes the cluster's gateway and dns
	// only with static addressing, which prefixLength turns on.
	if clusterLen == 0 && (n.Gateway != "" || len(n.DNS) > 0) && !v.skip(np+".prefixLength") {
		for i, h := range v.inv.Hosts {
			if h.Network.Address == "" {
				v.errorf(np, "gateway and dns apply to hosts with static addressing: set cluster.network.prefixLength, or hosts[%d].network.address for host %s", i, h.Name)
				break
			}
		}
	}
	flatcarWarned := false
	for i, h := range v.inv.Hosts {
		p := fmt.Sprintf("hosts[%d].network", i)
		hn := h.Network
		ip, _ := parseIPv4(h.IP)
		var subnet netip.Prefix
		switch {
		case hn.Address != "":
			pfx, err := netip.ParsePrefix(hn.Address)
			switch {
			case err != nil || !pfx.Addr().Is4():
				v.errorf(p+".address", "%q is not an IPv4 address with its prefix length (e.g. %s/24)", clip(hn.Address), h.IP)
			case pfx.Bits() < 1 || pfx.Bits() > 30:
				v.errorf(p+".address", "/%d is not a prefix length for a host's subnet (1..30)", pfx.Bits())
			case ip.IsValid() && pfx.Addr() != ip:
				v.errorf(p+".address", "%s is not the host's address %s: every certificate names hosts[%d].ip, so the static address must be that one", pfx.Addr(), v.ref(fmt.Sprintf("hosts[%d].ip", i), ip.String()), i)
			default:
				subnet = pfx.Masked()
			}
		case clusterLen > 0 && ip.IsValid():
			subnet = netip.PrefixFrom(ip, clusterLen).Masked()
		case hn.Gateway != "" || len(hn.DNS) > 0:
			v.errorf(p, "gateway and dns need %s.address or cluster.network.prefixLength, which turn static addressing on", p)
		}
		gw, gwPath := clusterGW, np+".gateway"
		if hn.Gateway != "" {
			gw, gwPath = v.addr(p+".gateway", hn.Gateway), p+".gateway"
		}
		for j, d := range hn.DNS {
			v.addr(fmt.Sprintf("%s.dns[%d]", p, j), d)
		}
		if subnet.IsValid() && !flatcarWarned && v.os != "" && osvariant.MustLookup(v.os).Installer == osvariant.FlatcarInstall && v.inv.Delivery.Boot != BootLive {
			// flatcar-install has no way to hand a static address to the
			// installed system's initramfs, where Ignition downloads the
			// kubelet and the rest: that first boot takes DHCP.
			flatcarWarned = true
			v.warnf(p, "on Flatcar the static address applies once Ignition has run: the first boot from disk downloads its files over DHCP, so keep a DHCP lease (or reservation) for each master's first boot")
		}
		if subnet.IsValid() && len(hn.DNS) == 0 && len(n.DNS) == 0 {
			v.warnf(p, "host %s has a static address but no name servers (cluster.network.dns or %s.dns): it cannot resolve the registries it pulls images from", h.Name, p)
		}
		if subnet.IsValid() && v.vip.IsValid() && !subnet.Contains(v.vip) {
			v.warnf("cluster.apiServer.vip", "the VIP %s is outside host %s's subnet %s: keepalived moves it between the hosts' interfaces, so it must be on their segment", v.vip, h.Name, subnet)
		}
		if !subnet.IsValid() || !gw.IsValid() {
			continue
		}
		at := gwPath
		if gwPath == np+".gateway" {
			at = fmt.Sprintf("hosts[%d].ip", i) // the cluster's gateway is fine; this host's subnet is not
		}
		switch {
		case !subnet.Contains(gw):
			v.errorf(at, "gateway %s is outside host %s's subnet %s: the host could not reach it", gw, h.Name, subnet)
		case gw == ip:
			v.errorf(at, "gateway %s is host %s's own address", gw, h.Name)
		}
	}
}

// addr parses an optional IPv4 address at path; the zero Addr when empty or bad.
func (v *validator) addr(path, s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, problem := parseIPv4(s)
	if problem == "" {
		problem = unicastProblem(a)
	}
	if !v.check(path, problem) {
		return netip.Addr{}
	}
	return a
}

// updates checks the update strategy and that no two hosts' update windows
// overlap or follow each other closer than MinWindowGap.
func (v *validator) updates() {
	u := v.inv.Cluster.Updates
	const up = "cluster.updates"
	if u.Strategy != "" && !v.oneOf(up+".strategy", u.Strategy, UpdatesWindows, UpdatesOff) {
		return
	}
	_, problems := ClusterWindow(u)
	for _, p := range problems {
		v.errorf(up+".window."+p.field, "%s", p.msg)
	}
	for i, h := range v.inv.Hosts {
		if !h.UpdateWindow.given() {
			continue
		}
		_, problems := parseWindow(h.UpdateWindow, Slot{Start: DefaultWindowStart, Length: DefaultWindowLength})
		for _, p := range problems {
			v.errorf(fmt.Sprintf("hosts[%d].updateWindow.%s", i, p.field), "%s", p.msg)
		}
	}
	if u.Strategy == UpdatesOff || len(v.inv.Hosts) > MaxHosts {
		return
	}
	slots, ok := UpdateSlots(v.inv)
	if !ok {
		return
	}
	derived := 0
	for _, h := range v.inv.Hosts {
		if !h.UpdateWindow.given() {
			derived++
		}
	}
	if fit := DerivedSlotsFit(u); derived > fit {
		at := up + ".window"
		if !v.set(at) {
			at = "hosts"
		}
		base, _ := ClusterWindow(u)
		v.errorf(at, "%d hosts take the derived update windows (%s, each followed by a gap as long), which hold %d: "+
			"set a shorter cluster.updates.window.length, restrict its days to move them through the week, give hosts their own updateWindow, or set cluster.updates.strategy: off", derived, base, fit)
		return
	}
	multiDay := v.os == "" || osvariant.MustLookup(v.os).MultiDayWindows
	for i, s := range slots {
		if !multiDay && !s.Daily() && len(s.Days) > 1 {
			at := up + ".window.days"
			if v.inv.Hosts[i].UpdateWindow.Days != nil {
				at = fmt.Sprintf("hosts[%d].updateWindow.days", i)
			}
			v.errorf(at, "%s's reboot manager takes one weekday or every day, not %s", osvariant.MustLookup(v.os).Title, strings.Join(s.DayNames(), ","))
			return
		}
	}
	for i := range slots {
		for j := 0; j < i; j++ {
			g := gap(slots[i], slots[j])
			if g >= MinWindowGap {
				continue
			}
			what := "overlaps"
			if g >= 0 {
				what = fmt.Sprintf("is only %dm away from", g)
			}
			hi, hj := v.inv.Hosts[i], v.inv.Hosts[j]
			// Point at a window the user chose, where there is one.
			at := up + ".window"
			for _, k := range []int{j, i} {
				if v.inv.Hosts[k].UpdateWindow.given() {
					at = fmt.Sprintf("hosts[%d].updateWindow", k)
				}
			}
			v.errorf(at, "host %s's update window (%s) %s host %s's (%s): two masters could reboot at once and etcd would lose quorum; windows need %dm between them", hi.Name, slots[i], what, hj.Name, slots[j], MinWindowGap)
		}
	}
}
