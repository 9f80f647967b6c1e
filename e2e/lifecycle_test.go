package e2e

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The lifecycle (README "Day 2", "Upgrade, add, remove"): a cluster made
// on the previous Kubernetes minor is upgraded by reprovisioning its
// masters one at a time with the inventory's own version, a master is
// added, and one is removed with kign hosts remove.

var flagUpgradeFrom = flag.String("upgrade-from", "", "TestE2ELifecycle: the Kubernetes version the cluster starts on (the minor before the inventory's)")

// TestE2ELifecycle is `make e2e E2E_FLAGS=--lifecycle=vX.Y.Z`.
func TestE2ELifecycle(t *testing.T) {
	o, ctx := setup(t)
	if *flagUpgradeFrom == "" {
		t.Skip("lifecycle test: run with -upgrade-from=VERSION")
	}
	o.upgradeFrom = *flagUpgradeFrom
	start := time.Now()
	if _, err := runE2E(t, ctx, o); err != nil {
		t.Fatalf("e2e lifecycle: FAIL after %.0f s: %v", time.Since(start).Seconds(), err)
	}
	fmt.Printf("e2e: PASS lifecycle of %s in %.0f s\n", filepath.Base(o.hosts), time.Since(start).Seconds())
}

// startOnOlder points the run at a copy of the inventory on the older
// version; the original is kept as the upgrade's target.
func (r *run) startOnOlder() error {
	r.target = r.o.hosts
	from := filepath.Join(r.dir, "upgrade-from.yaml")
	if err := writeVariant(r.o.hosts, from, r.o.upgradeFrom, nil); err != nil {
		return err
	}
	r.o.hosts = from
	r.logf("lifecycle: the cluster starts on Kubernetes %s (%s), to be upgraded to the inventory's version", r.o.upgradeFrom, from)
	return nil
}

// lifecycle runs after the older cluster is ready.
func (r *run) lifecycle(ctx context.Context) error {
	if err := r.waitEtcd(ctx, 2*time.Minute); err != nil {
		return err
	}
	// The added master: the next free address of the test subnet.
	used := []netip.Addr{r.c.vip, r.net.mirror}
	for _, h := range r.hosts {
		used = append(used, h.ip)
	}
	ip, err := freeAddr(r.net.subnet, used)
	if err != nil {
		return err
	}
	last := r.hosts[len(r.hosts)-1]
	added := hostInfo{name: last.name + "-added", ip: ip, iface: last.iface}
	variant := filepath.Join(r.dir, "upgrade-to.yaml")
	if err := writeVariant(r.target, variant, "", &added); err != nil {
		return err
	}
	version, arts, err := kignArtifacts(r.o.kign, variant)
	if err != nil {
		return err
	}
	etcdVersion, flannelVersion := componentVersions(arts)
	r.logf("lifecycle: getting tools for Kubernetes %s", version)
	corednsVersion, err := corednsVersionOf(r.o.kign, variant)
	if err != nil {
		return err
	}
	t2, err := getTools(r.o.repo, version, etcdVersion, flannelVersion, corednsVersion, r.o.progress)
	if err != nil {
		return err
	}
	if err := checkFlagTables(r.o.repo, t2, r.dir); err != nil {
		return err
	}
	local, sums, names, err := localArtifacts(t2, arts, filepath.Join(r.dir, "mirror-files-"+version))
	if err != nil {
		return err
	}
	inv := filepath.Join(r.dir, "hosts.yaml")
	if err := writeInventoryCopy(variant, inv, r.mirrorURL, sums, names, r.reg.addr, r.reg.caPEM); err != nil {
		return err
	}
	rows, err := kignImages(r.o.kign, inv)
	if err != nil {
		return err
	}
	if err := r.pushImages(context.Background(), r.reg, t2, rows); err != nil {
		return err
	}
	_, mirrored, err := kignArtifacts(r.o.kign, inv)
	if err != nil {
		return err
	}
	paths, _, err := servePaths(mirrored, local)
	if err != nil {
		return err
	}
	r.mirror.add(paths)
	out, err := r.kignGen(inv)
	if err != nil {
		return err
	}
	var old []string
	for _, h := range r.hosts {
		old = append(old, h.name)
	}
	for _, want := range []string{
		"[reprovision] one master at a time, in this order: " + strings.Join(old, ", ") + ";",
		"[reprovision] then boot the new master(s) " + added.name + ":",
	} {
		if !strings.Contains(out, want) {
			return fmt.Errorf("kign gen with %s on %s did not say %q:\n%s", added.name, version, want, out)
		}
	}
	r.logf("lifecycle: kign gen for %s with %s added lists %s to reprovision, then %s to boot", version, added.name, strings.Join(old, ", "), added.name)
	opts := r.bootOpts

	// Upgrade: each master is shut down (a planned stop), reprovisioned with
	// its new config and booted, one at a time, while a client reads
	// through the VIP.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var st clientStats
	wg.Add(1)
	go func() { defer wg.Done(); st = r.clientLoop(ctx, stop) }()
	t0 := time.Now()
	err = r.rollingReprovision(ctx, opts, t2.K8sBuilt)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	r.figure("upgrade: %d masters reprovisioned one at a time from %s to %s in %.0f s; longest API gap through the VIP %.1f s (%d of %d requests failed)",
		len(r.hosts), r.o.upgradeFrom, version, time.Since(t0).Seconds(), st.longestGap.Seconds(), st.failed, st.total)

	// Add: the new master boots from its config and joins by itself.
	if err := addHostNS(&r.net, added.iface, added.ip); err != nil {
		return err
	}
	h := &host{hostInfo: added, ns: r.net.hosts[len(r.net.hosts)-1], dir: filepath.Join(r.dir, "hosts", added.name)}
	h.root, h.ignState = filepath.Join(h.dir, "root"), filepath.Join(h.dir, "ignition")
	h.ign = filepath.Join(r.out, added.name+".ign")
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	t1 := time.Now()
	if err := r.rebuildRoot(h); err != nil {
		return err
	}
	if err := boot(h, opts); err != nil {
		return fmt.Errorf("host %s: %w", h.name, err)
	}
	r.hosts = append(r.hosts, h)
	if err := r.waitReady(ctx, "after adding "+h.name, t1, 6*time.Minute); err != nil {
		return err
	}
	if err := r.waitEtcd(ctx, 3*time.Minute); err != nil {
		return err
	}
	joined := time.Since(t1)
	if l := unitLog(ctx, h, "etcd-member.service"); !strings.Contains(l, "added "+h.name+" as learner") {
		return fmt.Errorf("add: etcd-member.service on %s:\n%s", h.name, indent(l))
	}
	r.figure("add: %s, booted from its config, joined etcd by itself (learner, promoted) and the control plane in %.1f s: %d voting members", h.name, joined.Seconds(), len(r.hosts))

	// Remove: kign hosts remove, from the operator's side (the hub).
	cmd := exec.CommandContext(ctx, "nsenter", "--net="+nsPath(r.net.hub), "--", r.o.kign, "hosts", "remove", h.name, "--hosts", inv, "--pki", filepath.Join(r.dir, "pki"))
	rm, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kign hosts remove %s: %v\n%s", h.name, err, rm)
	}
	r.logf("kign hosts remove said: %s", strings.ReplaceAll(strings.TrimSpace(string(rm)), "\n", " / "))
	halt(h, 60*time.Second)
	h.initPID = 0
	r.hosts = slices.DeleteFunc(r.hosts, func(x *host) bool { return x == h })
	r.retired = append(r.retired, h)
	if err := r.waitEtcd(ctx, 2*time.Minute); err != nil {
		return err
	}
	if err := r.waitReady(ctx, "after removing "+h.name, time.Now(), 3*time.Minute); err != nil {
		return err
	}
	r.figure("remove: kign hosts remove %s took its member out; powered off, etcd has the %d others, all healthy, and the API answers", h.name, len(r.hosts))
	return nil
}

// rollingReprovision shuts each master down cleanly, rebuilds its root
// from its new config and boots it with opts, one at a time: each must be
// back (a new, voting etcd member; its apiserver on version built) before
// the next.
func (r *run) rollingReprovision(ctx context.Context, opts bootOptions, built string) error {
	for _, h := range r.hosts {
		ml, err := r.members(ctx, r.hosts[0])
		if err != nil {
			return err
		}
		oldID := ml.id(h.name)
		t0 := time.Now()
		halt(h, 60*time.Second)
		h.initPID = 0
		if err := r.rebuildRoot(h); err != nil {
			return err
		}
		if err := boot(h, opts); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		if err := r.waitReady(ctx, "upgrade of "+h.name, t0, 6*time.Minute); err != nil {
			return err
		}
		if err := r.waitEtcd(ctx, 3*time.Minute); err != nil {
			return err
		}
		ml, err = r.members(ctx, r.hosts[0])
		if err != nil {
			return err
		}
		for _, m := range ml.Members {
			if m.Name == h.name && m.ID == oldID {
				return fmt.Errorf("upgrade: %s's etcd member is still %x: its data was not wiped", h.name, oldID)
			}
		}
		v, err := r.serverVersion(ctx, h)
		if err != nil {
			return err
		}
		if v != built {
			return fmt.Errorf("upgrade: %s's apiserver reports %s, want %s", h.name, v, built)
		}
		r.logf("upgrade: %s reprovisioned and back in %.1f s: apiserver %s, etcd member rejoined", h.name, time.Since(t0).Seconds(), v)
	}
	return nil
}

// serverVersion asks h's own apiserver (not the VIP) for its version.
func (r *run) serverVersion(ctx context.Context, h *host) (string, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.out, "admin.kubeconfig"))
	if err != nil {
		return "", err
	}
	cfg.Host = fmt.Sprintf("https://%s:%d", h.ip, r.c.port)
	cfg.Dial = dialerIn(nsPath(r.net.hub))
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("%s: /version: %w", h.name, err)
	}
	return v.GitVersion, nil
}
