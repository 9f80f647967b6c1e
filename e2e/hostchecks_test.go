package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Checks of each booted host: flannel, kube-proxy, sysctls, units.

// assertProxy checks that kube-proxy on every host programmed the
// kubernetes Service (the first address of serviceCIDR) into iptables:
// it reached the API through the VIP with its own kubeconfig.
func (r *run) assertProxy(ctx context.Context) error {
	svc := r.c.svcCIDR.Masked().Addr().Next()
	deadline := time.Now().Add(2 * time.Minute)
	for _, h := range r.hosts {
		for {
			out, err := inContainer(ctx, h, "iptables", "-w", "-t", "nat", "-S", "KUBE-SERVICES")
			if err == nil && strings.Contains(out, "-d "+svc.String()+"/32") && strings.Contains(out, "default/kubernetes:https") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("host %s: kube-proxy has no iptables rule for the kubernetes Service %s: %v\n%s", h.name, svc, err, out)
			}
			time.Sleep(2 * time.Second)
		}
	}
	r.logf("check: kube-proxy on every host programmed the kubernetes Service %s into iptables (nft)", svc)
	return nil
}

// assertSysctls checks that the net.* sysctls of the config's sysctl.d
// files hold in each host's network namespace.
func (r *run) assertSysctls(ctx context.Context) error {
	var checked int
	for _, h := range r.hosts {
		files, _ := filepath.Glob(filepath.Join(h.root, "etc/sysctl.d/*.conf"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(data), "\n") {
				k, v, ok := strings.Cut(line, "=")
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if !ok || !strings.HasPrefix(k, "net.") {
					continue
				}
				out, err := inContainer(ctx, h, "cat", "/proc/sys/"+strings.ReplaceAll(k, ".", "/"))
				if err != nil || strings.TrimSpace(out) != v {
					return fmt.Errorf("host %s: sysctl %s is %q, %s says %s (%v)", h.name, k, strings.TrimSpace(out), filepath.Base(f), v, err)
				}
				checked++
			}
		}
	}
	r.logf("check: the config's net.* sysctls (%d) hold in every host's network namespace", checked)
	return nil
}

// assertFlannel waits for flanneld on every host to lease a subnet of
// podCIDR (node mask) in etcd, and for its subnet.env and VXLAN device.
func (r *run) assertFlannel(ctx context.Context) error {
	deadline := time.Now().Add(3 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		leases, err := r.flannelLeases(ctx)
		if err == nil {
			if msg := r.checkLeases(leases); msg == "" {
				return nil
			} else {
				last = msg
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return fmt.Errorf("flannel: %s", last)
}

// flannelLeases reads flannel's leases from etcd: subnet → public IP.
func (r *run) flannelLeases(ctx context.Context) (map[netip.Prefix]string, error) {
	out, err := etcdctlAs(ctx, r.hosts[0], flannelCert, r.endpoints(), "get", "--prefix", "/coreos.com/network/subnets/")
	if err != nil {
		return nil, err
	}
	leases := map[netip.Prefix]string{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		key := strings.TrimPrefix(lines[i], "/coreos.com/network/subnets/")
		p, err := netip.ParsePrefix(strings.Replace(key, "-", "/", 1))
		if err != nil {
			return nil, fmt.Errorf("flannel lease key %q: %w", lines[i], err)
		}
		var v struct{ PublicIP string }
		if err := json.Unmarshal([]byte(lines[i+1]), &v); err != nil {
			return nil, fmt.Errorf("flannel lease %s: %w", key, err)
		}
		leases[p] = v.PublicIP
	}
	return leases, nil
}

func (r *run) checkLeases(leases map[netip.Prefix]string) string {
	byIP := map[string]netip.Prefix{}
	for p, ip := range leases {
		if p.Bits() != r.c.nodeMask || !r.c.podCIDR.Contains(p.Addr()) {
			return fmt.Sprintf("lease %s of %s is not a /%d of %s", p, ip, r.c.nodeMask, r.c.podCIDR)
		}
		byIP[ip] = p
	}
	var lines []string
	for _, h := range r.hosts {
		p, ok := byIP[h.ip.String()]
		if !ok {
			return fmt.Sprintf("no lease for %s (%s) yet; leases: %v", h.name, h.ip, leases)
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/run/flannel/subnet.env", h.initPID))
		if err != nil {
			return fmt.Sprintf("%s: %v", h.name, err)
		}
		if sub := envValue(string(env), "FLANNEL_SUBNET"); sub == "" || !p.Contains(netip.MustParsePrefix(sub).Addr()) {
			return fmt.Sprintf("%s: subnet.env FLANNEL_SUBNET=%q is not in its lease %s", h.name, sub, p)
		}
		if _, err := ipCmd("-n", h.ns, "link", "show", "flannel.1"); err != nil {
			return fmt.Sprintf("%s: no flannel.1 VXLAN device: %v", h.name, err)
		}
		lines = append(lines, fmt.Sprintf("%s=%s", h.name, p))
	}
	sort.Strings(lines)
	r.logf("check: flanneld leased a /%d of %s on every host (%s), wrote subnet.env and made flannel.1", r.c.nodeMask, r.c.podCIDR, strings.Join(lines, " "))
	return ""
}

func envValue(env, key string) string {
	sc := bufio.NewScanner(strings.NewReader(env))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && k == key {
			return v
		}
	}
	return ""
}

// assertUnits checks on every host that each unit the config enables was
// enabled by the presets at first boot and is active, and that no unit failed.
func (r *run) assertUnits(ctx context.Context) error {
	for _, h := range r.hosts {
		units, err := enabledUnits(h)
		if err != nil {
			return err
		}
		var checked []string
		for _, u := range units {
			if _, err := os.Stat(filepath.Join(h.root, "etc/systemd/system", u)); err != nil {
				// No unit file in the config or the root: a unit of the OS
				// image (containerd.service) that this machine lacks.
				if _, err := os.Stat(filepath.Join("/usr/lib/systemd/system", u)); err != nil {
					continue
				}
			}
			out, err := inContainer(ctx, h, "systemctl", "is-enabled", u)
			if err != nil || strings.TrimSpace(out) != "enabled" {
				return fmt.Errorf("host %s: unit %s is %q after first boot, want enabled (%v)", h.name, u, strings.TrimSpace(out), err)
			}
			out, err = inContainer(ctx, h, "systemctl", "is-active", u)
			if err != nil || strings.TrimSpace(out) != "active" {
				// A unit whose condition did not hold was skipped, as
				// meant (etcd-member-promote.service with no learner).
				cond, _ := inContainer(ctx, h, "systemctl", "show", "--property=ConditionResult", "--value", u)
				if strings.TrimSpace(out) == "inactive" && strings.TrimSpace(cond) == "no" {
					checked = append(checked, u+"(condition unmet)")
					continue
				}
				return fmt.Errorf("host %s: unit %s is %q, want active (%v)", h.name, u, strings.TrimSpace(out), err)
			}
			checked = append(checked, u)
		}
		// A unit of kign's config that failed fails the run. Units of the
		// test machine's Debian /usr (which stands in for the OS image) are
		// reported only: they are not what kign delivers.
		out, _ := inContainer(ctx, h, "systemctl", "--failed", "--no-legend", "--plain")
		ours := map[string]bool{}
		for _, u := range allUnits(h) {
			ours[u] = true
		}
		var other []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if ours[f[0]] {
				return fmt.Errorf("host %s: unit %s of kign's config failed:\n%s", h.name, f[0], out)
			}
			other = append(other, f[0])
		}
		note := "no failed unit"
		if len(other) > 0 {
			note = "failed units of the test machine's /usr, not kign's: " + strings.Join(other, " ")
		}
		r.logf("check: %s: units enabled by preset and active: %s; %s", h.name, strings.Join(checked, " "), note)
	}
	return nil
}
