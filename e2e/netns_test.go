package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Network layout of one run (all of it inside namespaces this test creates;
// nothing is added to the machine's own namespace):
//
//	hub netns "ke2e<pid>hub": bridge br0 holding the mirror address, the
//	  test's own end for the admin client and the mirror server
//	host netns "ke2e<pid>h<i>": one per inventory host, lo plus one veth
//	  named as the host's interface in the inventory, with the host's IP in
//	  the test subnet; the other end is a port of br0
//
// No namespace has a default route, so nothing can leave the machine.
const nsPrefix = "ke2e"

// network is the set of namespaces of one run.
type network struct {
	id     string // unique per run: the test's PID
	hub    string // hub netns name
	subnet netip.Prefix
	mirror netip.Addr // the hub's address in subnet
	hosts  []string   // netns name per inventory host, in order
}

func nsPath(name string) string { return "/run/netns/" + name }

// ipCmd runs ip(8) with args and returns its combined output.
func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// testSubnet is the smallest prefix of at most /24 that holds every
// address given (the inventory's hosts and VIP): the hosts' link.
func testSubnet(addrs []netip.Addr) (netip.Prefix, error) {
	for bits := 24; bits >= 8; bits-- {
		p, err := addrs[0].Prefix(bits)
		if err != nil {
			return netip.Prefix{}, err
		}
		all := true
		for _, a := range addrs {
			all = all && p.Contains(a)
		}
		if all {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("addresses %v share no prefix of /8 or longer", addrs)
}

// freeAddr returns the highest address of p below its broadcast address that
// is not in used: the mirror's address.
func freeAddr(p netip.Prefix, used []netip.Addr) (netip.Addr, error) {
	taken := map[netip.Addr]bool{}
	for _, a := range used {
		taken[a] = true
	}
	last := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(last[0])<<24 | uint32(last[1])<<16 | uint32(last[2])<<8 | uint32(last[3])
	v |= 1<<host - 1 // broadcast
	for i := 1; i < 1<<host-1; i++ {
		c := v - uint32(i)
		a := netip.AddrFrom4([4]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
		if !taken[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address in %s", p)
}

// createNetwork builds the hub and one namespace per host. ifaces and ips
// are per host, in inventory order. On error, what was made is left for
// (*network).destroy.
func createNetwork(n *network, ifaces []string, ips []netip.Addr) error {
	n.hub = fmt.Sprintf("%s%shub", nsPrefix, n.id)
	if _, err := ipCmd("netns", "add", n.hub); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", n.hub, "link", "set", "lo", "up"},
		{"-n", n.hub, "link", "add", "br0", "type", "bridge"},
		{"-n", n.hub, "addr", "add", fmt.Sprintf("%s/%d", n.mirror, n.subnet.Bits()), "dev", "br0"},
		{"-n", n.hub, "link", "set", "br0", "up"},
	}
	for _, s := range steps {
		if _, err := ipCmd(s...); err != nil {
			return err
		}
	}
	for i := range ifaces {
		if err := addHostNS(n, ifaces[i], ips[i]); err != nil {
			return err
		}
	}
	// Prove there is no way out: the hub has no route that is not on its
	// own link (addHostNS proves it of each host).
	return noRouteOut(n.hub)
}

// noRouteOut fails if namespace ns has a route off its own links.
func noRouteOut(ns string) error {
	out, err := ipCmd("-n", ns, "-4", "route", "show")
	if err != nil {
		return err
	}
	if strings.Contains(out, "default") || strings.Contains(out, " via ") {
		return fmt.Errorf("netns %s has a route out: %s", ns, out)
	}
	return nil
}

// addHostNS adds the namespace of one more host, joined to the hub's
// bridge, with iface holding ip; it checks that it has no route out.
func addHostNS(n *network, iface string, ip netip.Addr) error {
	i := len(n.hosts)
	ns := fmt.Sprintf("%s%sh%d", nsPrefix, n.id, i)
	if _, err := ipCmd("netns", "add", ns); err != nil {
		return err
	}
	n.hosts = append(n.hosts, ns)
	port := fmt.Sprintf("kv%d", i)
	steps := [][]string{
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", n.hub, "link", "add", port, "type", "veth", "peer", "name", iface, "netns", ns},
		{"-n", n.hub, "link", "set", port, "master", "br0", "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", ip, n.subnet.Bits()), "dev", iface},
		{"-n", ns, "link", "set", iface, "up"},
	}
	for _, s := range steps {
		if _, err := ipCmd(s...); err != nil {
			return err
		}
	}
	return noRouteOut(ns)
}

// destroy deletes every namespace of the run (their veths go with them).
func (n *network) destroy() []error {
	var errs []error
	for _, ns := range append(append([]string{}, n.hosts...), n.hub) {
		if ns == "" {
			continue
		}
		if _, err := os.Stat(nsPath(ns)); err != nil {
			continue
		}
		if _, err := ipCmd("netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// sweepStale deletes namespaces left by an earlier run of this test that
// died without cleaning up (its PID, part of the name, no longer runs).
// Only names of this test's pattern are touched.
func sweepStale() {
	out, err := ipCmd("netns", "list")
	if err != nil {
		return
	}
	re := regexp.MustCompile(`^` + nsPrefix + `(\d+)(hub|h\d+)$`)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := re.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // that run is still going
		}
		ipCmd("netns", "delete", f[0])
	}
}

// inNetns runs f on an OS thread that has joined the network namespace
// at path. Sockets f creates belong to that namespace for their whole life.
// The thread is never handed back to the Go scheduler: it ends with f.
func inNetns(path string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with this goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// dialerIn returns a dial function whose connections start in netns path.
func dialerIn(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNetns(path, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// listenIn listens on addr inside netns path.
func listenIn(path, addr string) (net.Listener, error) {
	var l net.Listener
	err := inNetns(path, func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// hasAddr reports whether ns holds addr on dev.
func hasAddr(ns, dev string, addr netip.Addr) (bool, error) {
	out, err := ipCmd("-n", ns, "-4", "-o", "addr", "show", "dev", dev)
	if err != nil {
		return false, err
	}
	return strings.Contains(out, " "+addr.String()+"/"), nil
}
