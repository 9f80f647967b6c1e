package e2e

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options configure one end-to-end run.
type options struct {
	repo     string // the kign repository
	hosts    string // inventory
	kign     string // kign binary ("" builds it)
	work     string // parent of the run's work folder
	keep     bool   // keep the work folder
	timeout  time.Duration
	progress io.Writer // progress lines and figures
	// mutate, if set, changes one host's Ignition config before it is
	// applied (the harness's own test breaks a config with it).
	mutate func(host string, ign []byte) ([]byte, error)
	// stopAfterReady ends the run after the control plane check.
	stopAfterReady bool
	// slowDone: the slowest scenarios ran on another inventory of this
	// run (hack/e2e-run.sh), so this one makes one VIP failover instead of
	// three and skips the snapshot restore (the same script on every OS).
	slowDone bool
	// upgradeFrom, if set, starts the cluster on this Kubernetes version
	// and runs the lifecycle (lifecycle_test.go) instead of the checks.
	upgradeFrom string
}

// run is one end-to-end run: everything it created, for teardown.
type run struct {
	o      options
	c      *cluster
	dir    string
	net    network
	tools  *tools
	mirror *mirror
	reg    *registry
	hosts  []*host
	out    string
	admin  *adminClient
	ca     *x509.CertPool
	booted time.Time // when the first container was started
	// bootOpts boot a host again (reprovision, power cycle).
	bootOpts bootOptions
	// mirrorURL is artifacts.mirror of the inventory copy.
	mirrorURL string
	// target is the inventory a lifecycle run upgrades to; retired are
	// hosts it removed (still torn down).
	target  string
	retired []*host
	figures []string
}

func (r *run) logf(format string, a ...any) {
	fmt.Fprintf(r.o.progress, "e2e: "+format+"\n", a...)
}

// figure prints one result line exactly as the issue names it.
func (r *run) figure(format string, a ...any) {
	line := fmt.Sprintf("e2e: "+format, a...)
	r.figures = append(r.figures, line)
	fmt.Fprintln(r.o.progress, line)
}

// endpoints are every etcd member's client URL.
func (r *run) endpoints() []string {
	var eps []string
	for _, h := range r.hosts {
		eps = append(eps, "https://"+h.ip.String()+":2379")
	}
	return eps
}

// execute runs every step; teardown is the caller's (always).
func (r *run) execute(ctx context.Context) error {
	var err error
	if r.c, err = loadInventory(r.o.hosts); err != nil {
		return err
	}
	r.logf("inventory %s: cluster %s, %d masters, VIP %s:%d", r.o.hosts, r.c.name, len(r.c.hosts), r.c.vip, r.c.port)
	if r.dir, err = os.MkdirTemp(r.o.work, "kign-e2e-"); err != nil {
		return err
	}
	// The host roots lie below: users of a root (Ignition writes core's SSH
	// keys as core) must be able to reach it, as they reach "/" on a
	// machine. The PKI and kign's output folders are 0700 themselves.
	if err := os.Chmod(r.dir, 0o755); err != nil {
		return err
	}
	r.logf("work folder %s", r.dir)
	if r.o.upgradeFrom != "" {
		if err := r.startOnOlder(); err != nil {
			return err
		}
	}
	t0 := time.Now()
	version, kt, err := prepareTools(&r.o, r.dir, r.logf)
	if err != nil {
		return err
	}
	r.tools = kt.tools
	arts := kt.rows
	r.logf("tools ready in %.0f s: Ignition %s, Kubernetes %s (kign plans %s), etcd %s",
		time.Since(t0).Seconds(), filepath.Base(filepath.Dir(r.tools.Ignition)), r.tools.K8sBuilt, version, r.tools.EtcdVersion)
	if err := checkFlagTables(r.o.repo, r.tools, r.dir); err != nil {
		return err
	}
	r.logf("check: kign's flag tables (internal/flagset/data) are the flag sets of the Kubernetes %s and etcd %s binaries built here", r.tools.K8sBuilt, r.tools.EtcdVersion)
	if err := ctx.Err(); err != nil {
		return err
	}

	// Network: the inventory's addresses exist only inside namespaces.
	addrs := []netip.Addr{r.c.vip}
	for _, h := range r.c.hosts {
		addrs = append(addrs, h.ip)
	}
	r.net.id = strconv.Itoa(os.Getpid())
	if r.net.subnet, err = testSubnet(addrs); err != nil {
		return err
	}
	if r.net.mirror, err = freeAddr(r.net.subnet, addrs); err != nil {
		return err
	}
	var ifaces []string
	var ips []netip.Addr
	for _, h := range r.c.hosts {
		ifaces, ips = append(ifaces, h.iface), append(ips, h.ip)
	}
	sweepStale()
	if err := createNetwork(&r.net, ifaces, ips); err != nil {
		return err
	}
	r.logf("network: hub %s (mirror %s) and %d host namespaces on %s, no route out", r.net.hub, r.net.mirror, len(r.net.hosts), r.net.subnet)

	if err := r.generate(arts); err != nil {
		return err
	}
	if err := r.applyAll(); err != nil {
		return err
	}
	if err := r.bootAll(); err != nil {
		return err
	}
	bootStart := r.booted
	if err := r.waitReady(ctx, "control plane", bootStart, 8*time.Minute); err != nil {
		return err
	}
	r.figure("control plane ready in %.1f s", time.Since(bootStart).Seconds())
	if r.o.upgradeFrom != "" {
		return r.lifecycle(ctx)
	}
	if err := r.assertAll(ctx); err != nil {
		return err
	}
	if err := r.assertCluster(ctx); err != nil {
		return err
	}
	if r.o.stopAfterReady {
		return nil
	}
	if err := r.hostReboot(ctx); err != nil {
		return err
	}
	if err := r.faultsVIP(ctx); err != nil {
		return err
	}
	if err := r.plannedStop(ctx); err != nil {
		return err
	}
	if err := r.falseFailovers(ctx); err != nil {
		return err
	}
	if err := r.faultEtcd(ctx); err != nil {
		return err
	}
	// Day 2 (README "Day 2"): restore first, so that the reprovision and
	// the power cycle run on a restored cluster too.
	if r.o.slowDone {
		r.logf("snapshot and restore: not repeated here (it ran on the run's first inventory)")
	} else if err := r.snapshotRestore(ctx); err != nil {
		return err
	}
	if err := r.reprovision(ctx); err != nil {
		return err
	}
	return r.powerCycle(ctx)
}

// generate builds the mirror and runs kign gen on a copy of the inventory
// that points at it.
func (r *run) generate(arts []artifact) error {
	local, sums, names, err := localArtifacts(r.tools, arts, filepath.Join(r.dir, "mirror-files"))
	if err != nil {
		return err
	}
	const port = 8080
	mirrorURL := fmt.Sprintf("http://%s:%d/kign", r.net.mirror, port)
	r.mirrorURL = mirrorURL
	if r.reg, err = startRegistry(r.tools.Registry, filepath.Join(r.dir, "registry"), r.net.hub, r.net.mirror); err != nil {
		return err
	}
	inv := filepath.Join(r.dir, "hosts.yaml")
	if err := writeInventoryCopy(r.o.hosts, inv, mirrorURL, sums, names, r.reg.addr, r.reg.caPEM); err != nil {
		return err
	}
	_, mirrored, err := kignArtifacts(r.o.kign, inv)
	if err != nil {
		return err
	}
	for _, a := range mirrored {
		if a.hash != "sha256-"+sums[a.name] {
			return fmt.Errorf("kign artifacts: %s has hash %s, the inventory copy pins sha256-%s", a.name, a.hash, sums[a.name])
		}
		if !strings.HasPrefix(a.url, mirrorURL+"/") {
			return fmt.Errorf("kign artifacts: %s URL %s is not on the mirror %s", a.name, a.url, mirrorURL)
		}
	}
	paths, list, err := servePaths(mirrored, local)
	if err != nil {
		return err
	}
	if r.mirror, err = startMirror(r.net.hub, fmt.Sprintf("%s:%d", r.net.mirror, port), paths); err != nil {
		return err
	}
	r.logf("mirror %s serves %d files:", mirrorURL, len(list))
	for _, p := range list {
		r.logf("  %s", p)
	}
	rows, err := kignImages(r.o.kign, inv)
	if err != nil {
		return err
	}
	if err := r.pushImages(context.Background(), r.reg, r.tools, rows); err != nil {
		return err
	}
	r.logf("registry https://%s (its own CA, given as artifacts.imageRegistryCA) holds %d images built here:", r.reg.addr, len(rows)+1)
	for _, row := range rows {
		r.logf("  %s", row.ref)
	}
	r.out = filepath.Join(r.dir, "out")
	if _, err := r.kignGen(inv); err != nil {
		return err
	}
	if kubeletHTTP, err = newKubeletHTTP(filepath.Join(r.dir, "pki"), r.net.hub); err != nil {
		return err
	}
	r.logf("kign gen --hosts %s: %d configs", inv, len(r.c.hosts))
	for i, hi := range r.c.hosts {
		h := &host{hostInfo: hi, ns: r.net.hosts[i], dir: filepath.Join(r.dir, "hosts", hi.name)}
		h.root, h.ignState = filepath.Join(h.dir, "root"), filepath.Join(h.dir, "ignition")
		h.ign = filepath.Join(r.out, hi.name+".ign")
		if err := os.MkdirAll(h.dir, 0o755); err != nil {
			return err
		}
		if r.o.mutate != nil {
			data, err := os.ReadFile(h.ign)
			if err != nil {
				return err
			}
			if data, err = r.o.mutate(hi.name, data); err != nil {
				return err
			}
			h.ign = filepath.Join(h.dir, hi.name+".ign")
			if err := os.WriteFile(h.ign, data, 0o600); err != nil {
				return err
			}
		}
		r.hosts = append(r.hosts, h)
	}
	if r.admin, err = newAdminClient(filepath.Join(r.out, "admin.kubeconfig"), r.net.hub); err != nil {
		return err
	}
	r.ca, err = caFromKubeconfig(filepath.Join(r.out, "admin.kubeconfig"))
	return err
}

// kignGen runs kign gen on inv into the run's output and PKI folders and
// returns its output (also kept in the work folder).
func (r *run) kignGen(inv string) (string, error) {
	cmd := exec.Command(r.o.kign, "gen", "--hosts", inv, "-o", r.out, "--pki", filepath.Join(r.dir, "pki"))
	out, err := cmd.CombinedOutput()
	f, _ := os.OpenFile(filepath.Join(r.dir, "kign-gen.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if f != nil {
		f.Write(out)
		f.Close()
	}
	if err != nil {
		return "", fmt.Errorf("kign gen: %v\n%s", err, out)
	}
	return string(out), nil
}

// applyAll applies every host's config with real Ignition and checks the roots.
func (r *run) applyAll() error {
	var problems []string
	for _, h := range r.hosts {
		t0 := time.Now()
		if err := osLayout(h.root, r.c.os); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		if err := applyIgnition(r.tools.Ignition, h); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		bad, err := verifyRoot(h)
		if err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		for _, b := range bad {
			problems = append(problems, h.name+": "+b)
		}
		if err := prepareRoot(h); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		r.logf("ignition: %s applied (fetch + files) in %.2f s, root checked", h.name, time.Since(t0).Seconds())
	}
	if len(problems) > 0 {
		return fmt.Errorf("roots differ from their configs:\n  %s", strings.Join(problems, "\n  "))
	}
	// Ignition fetched every artifact from the mirror, once per host.
	for p, n := range r.mirror.fetchedBy() {
		if n < len(r.hosts) {
			return fmt.Errorf("mirror: %s fetched by %d hosts, want %d", p, n, len(r.hosts))
		}
	}
	for p := range r.mirror.files {
		if r.mirror.fetchedBy()[p] == 0 {
			return fmt.Errorf("mirror: %s was never fetched", p)
		}
	}
	r.logf("ignition: every host fetched every artifact from the mirror and verified its hash")
	return nil
}

// bootAll boots every root with systemd-nspawn.
func (r *run) bootAll() error {
	osImage := filepath.Join(r.dir, "os-image/usr")
	if err := writeOSImage(osImage, r.c.os, r.tools); err != nil {
		return err
	}
	r.bootOpts = bootOptions{nspawnDir: r.tools.NspawnDir, usrExtra: r.tools.UsrExtra, osImage: osImage, runID: r.net.id}
	r.booted = time.Now()
	for _, h := range r.hosts {
		if err := boot(h, r.bootOpts); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
		r.logf("boot: %s: systemd is PID 1 of its container (PID %d here), netns %s", h.name, h.initPID, h.ns)
	}
	return nil
}

// kignTools is what prepareTools returns: kign's artifact rows for the
// inventory and the tools built for them.
type kignTools struct {
	rows  []artifact
	tools *tools
}

// prepareTools builds kign into dir if o names none, reads the inventory's
// artifacts and gets the tools for their versions (hack/e2e-tools.sh).
func prepareTools(o *options, dir string, logf func(string, ...any)) (string, kignTools, error) {
	if o.kign == "" {
		o.kign = filepath.Join(dir, "bin/kign")
		logf("building kign")
		cmd := exec.Command("go", "build", "-o", o.kign, "./cmd/kign")
		cmd.Dir = o.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", kignTools{}, fmt.Errorf("go build ./cmd/kign: %v\n%s", err, out)
		}
	}
	version, arts, err := kignArtifacts(o.kign, o.hosts)
	if err != nil {
		return "", kignTools{}, err
	}
	etcdVersion, flannelVersion := componentVersions(arts)
	corednsVersion, err := corednsVersionOf(o.kign, o.hosts)
	if err != nil {
		return "", kignTools{}, err
	}
	logf("getting tools for Kubernetes %s, etcd %s, flannel %s, CoreDNS %s (hack/e2e-tools.sh)", version, etcdVersion, flannelVersion, corednsVersion)
	t, err := getTools(o.repo, version, etcdVersion, flannelVersion, corednsVersion, o.progress)
	return version, kignTools{rows: arts, tools: t}, err
}

// corednsVersionOf is the tag of the CoreDNS image kign names for hosts.
func corednsVersionOf(kign, hosts string) (string, error) {
	rows, err := kignImages(kign, hosts)
	if err != nil {
		return "", err
	}
	for _, row := range rows {
		if row.name == "coredns" {
			return imageTag(row.ref), nil
		}
	}
	return "", fmt.Errorf("kign artifacts --hosts %s names no coredns image", hosts)
}

// localArtifacts builds in dir the files the mirror serves for arts from
// t (mirrorFiles) and returns them, their sha256 sums by name and the names.
func localArtifacts(t *tools, arts []artifact, dir string) (local, sums map[string]string, names []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	if local, err = mirrorFiles(t, arts, dir); err != nil {
		return nil, nil, nil, err
	}
	sums = map[string]string{}
	for _, a := range arts {
		if sums[a.name], err = sha256File(local[a.name]); err != nil {
			return nil, nil, nil, err
		}
		names = append(names, a.name)
	}
	return local, sums, names, nil
}

// componentVersions returns the etcd and flannel versions of kign's
// artifact rows.
func componentVersions(arts []artifact) (etcd, flannel string) {
	for _, a := range arts {
		switch a.name {
		case "etcd":
			etcd = a.version
		case "flanneld":
			flannel = a.version
		}
	}
	return etcd, flannel
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}
