package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The QEMU boot lane (`make e2e-boot`, and the last step of `make e2e` in
// CI): one host of the inventory boots a real kernel under QEMU's software
// emulation (TCG: this machine's /dev/kvm is nested and cannot run a stock
// kernel), twice:
//
//  1. PXE: QEMU's iPXE ROM gets an address and kign's <host>.ipxe from
//     dnsmasq and an HTTP server in the lane's namespace, and runs the
//     script unchanged: kernel, initramfs, rootfs and <host>-ignition.img.
//     The test OS's initramfs runs the real Ignition on the install config,
//     the live system installs the OS image to the empty virtual disk and
//     reboots; the firmware finds the disk bootable now, and the installed
//     system's first boot runs Ignition on the host's full config, then
//     systemd starts kign's units.
//  2. Pointer: a fresh copy of the OS image (its platform qemu), with only
//     <host>.pointer.ign given as -fw_cfg name=opt/com.coreos/config;
//     Ignition reads it from fw_cfg and fetches the full config from
//     `kign serve` with the host's token; systemd starts kign's units.
//
// Each time the harness reads the test OS's report on the serial port
// (every unit Ignition enabled, its state), then the disk's root file
// system (debugfs, nothing mounted) and checks it as the nspawn lane checks
// a root (verifyRoot). The control plane does not run here (TCG is ~17x
// slower); the boot chain does.
//
// The test OS is built from Debian packages (hack/e2e-testos.sh: kernel,
// busybox, debootstrap) plus the node software of the nspawn lane, the real
// Ignition, and the test OS's own initramfs script, installer and report
// (e2e/testos/); e2e/README.md lists how it differs from Fedora CoreOS.

// TestE2EBoot is the boot lane on the inventory's first host.
func TestE2EBoot(t *testing.T) {
	o, ctx := setup(t)
	start := time.Now()
	b := &bootLane{o: o}
	err := b.execute(ctx)
	if err != nil {
		b.diagnose()
	}
	for _, e := range b.teardown() {
		t.Errorf("teardown: %v", e)
	}
	if err != nil {
		t.Fatalf("e2e: boot lane FAIL after %.0f s: %v", time.Since(start).Seconds(), err)
	}
	fmt.Printf("e2e: PASS boot lane %s in %.0f s\n", filepath.Base(o.hosts), time.Since(start).Seconds())
}

// bootLane is one run of the boot lane: everything it started, for teardown.
type bootLane struct {
	o      options
	c      *cluster
	h      hostInfo
	mac    string
	dir    string
	ns     string
	hub    netip.Addr
	subnet netip.Prefix
	tools  *tools
	base   string // hack/e2e-testos.sh's folder
	out    string // kign gen's output
	mirror *mirror
	procs  []*proc  // dnsmasq, kign serve, QEMU: ended by PID
	logs   []string // console and server logs, for diagnose
}

// Files of the test OS, built per run in WORK/testos.
type testOS struct {
	kernel, initramfs, rootfs string // the live PXE image, as kign's script names it
	disk                      string // the OS image (raw disk), platform metal
}

// The OS image's layout: an MBR, the boot partition (FAT: syslinux installs
// onto it without a mount) and the root partition (ext4 made by mke2fs -d).
const (
	diskMiB     = 1024
	bootStart   = 1 << 20
	bootMiB     = 63
	rootStart   = 64 << 20
	rootMiB     = diskMiB - 64
	qemuMemMiB  = 3072
	bootTimeout = 20 * time.Minute
)

func (b *bootLane) logf(format string, a ...any) {
	fmt.Fprintf(b.o.progress, "e2e: boot lane: "+format+"\n", a...)
}

func (b *bootLane) execute(ctx context.Context) error {
	var err error
	if b.c, err = loadInventory(b.o.hosts); err != nil {
		return err
	}
	if b.c.os != "fcos" {
		return fmt.Errorf("the boot lane runs Fedora CoreOS inventories (coreos-installer's config, fw_cfg opt/com.coreos/config); %s is %s", b.o.hosts, b.c.os)
	}
	b.h = b.c.hosts[0]
	if b.dir, err = os.MkdirTemp(b.o.work, "kign-e2e-boot-"); err != nil {
		return err
	}
	if err := os.Chmod(b.dir, 0o755); err != nil {
		return err
	}
	b.logf("inventory %s, host %s, work folder %s", b.o.hosts, b.h.name, b.dir)
	_, kt, err := prepareTools(&b.o, b.dir, b.logf)
	if err != nil {
		return err
	}
	b.tools = kt.tools
	arts := kt.rows
	t0 := time.Now()
	cmd := exec.Command(filepath.Join(b.o.repo, "hack/e2e-testos.sh"))
	cmd.Stderr = b.o.progress
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("hack/e2e-testos.sh: %v", err)
	}
	b.base = strings.TrimSpace(string(out))
	b.logf("test OS base %s ready in %.0f s", filepath.Base(b.base), time.Since(t0).Seconds())
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.network(); err != nil {
		return err
	}
	if err := b.generate(arts); err != nil {
		return err
	}
	t0 = time.Now()
	tos, err := b.buildTestOS()
	if err != nil {
		return err
	}
	b.logf("test OS built in %.0f s: kernel, initramfs, rootfs, OS image", time.Since(t0).Seconds())
	if err := b.serveBoot(tos); err != nil {
		return err
	}
	if err := b.pxeBoot(ctx, tos); err != nil {
		return err
	}
	return b.pointerBoot(ctx, tos)
}

// network makes the lane's namespace: a bridge holding the hub address (the
// servers) and a tap device for QEMU; no route out.
func (b *bootLane) network() error {
	addrs := []netip.Addr{b.c.vip}
	for _, h := range b.c.hosts {
		addrs = append(addrs, h.ip)
	}
	var err error
	if b.subnet, err = testSubnet(addrs); err != nil {
		return err
	}
	if b.hub, err = freeAddr(b.subnet, addrs); err != nil {
		return err
	}
	sweepStale()
	b.ns = fmt.Sprintf("%s%dhub", nsPrefix, os.Getpid())
	if _, err := ipCmd("netns", "add", b.ns); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "br0", "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(b.hub, b.subnet.Bits()).String(), "dev", "br0"},
		{"link", "set", "br0", "up"},
		{"tuntap", "add", "dev", "tap0", "mode", "tap"},
		{"link", "set", "tap0", "master", "br0"},
		{"link", "set", "tap0", "up"},
	} {
		if _, err := ipCmd(append([]string{"-n", b.ns}, args...)...); err != nil {
			return err
		}
	}
	if err := noRouteOut(b.ns); err != nil {
		return err
	}
	b.mac = fmt.Sprintf("52:54:00:%02x:%02x:%02x", b.h.ip.As4()[1], b.h.ip.As4()[2], b.h.ip.As4()[3])
	b.logf("network: namespace %s, bridge br0 %s, tap0 for QEMU (MAC %s, DHCP gives %s), no route out", b.ns, b.hub, b.mac, b.h.ip)
	return nil
}

// generate runs kign gen on a copy of the inventory pointing at the lane's
// mirror (artifacts and OS images) and `kign serve`, with the host's
// install disk the virtual disk.
func (b *bootLane) generate(arts []artifact) error {
	local, sums, names, err := localArtifacts(b.tools, arts, filepath.Join(b.dir, "mirror-files"))
	if err != nil {
		return err
	}
	const port = 8080
	mirrorURL := fmt.Sprintf("http://%s:%d/kign", b.hub, port)
	inv := filepath.Join(b.dir, "hosts.yaml")
	if err := writeInventoryCopy(b.o.hosts, inv, mirrorURL, sums, names, "", nil); err != nil {
		return err
	}
	doc, root, err := readDoc(inv)
	if err != nil {
		return err
	}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	hs := mapGet(root, "hosts")
	if hs == nil || len(hs.Content) == 0 {
		return fmt.Errorf("%s: no hosts", inv)
	}
	mapSet(hs.Content[0], "installDisk", scalar("/dev/vda"))
	mapSet(hs.Content[0], "mac", scalar(b.mac))
	imgs := mapGet(root, "images")
	if imgs == nil {
		imgs = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(root, "images", imgs)
	}
	mapSet(imgs, "mirror", scalar(fmt.Sprintf("http://%s:%d/images", b.hub, port)))
	del := mapGet(root, "delivery")
	if del == nil {
		del = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(root, "delivery", del)
	}
	mapSet(del, "url", scalar(fmt.Sprintf("https://%s:8443", b.hub)))
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	if err := os.WriteFile(inv, append([]byte("# The boot lane's copy (e2e/bootlane_test.go): mirror, images, delivery and host 0's disk and MAC are the lane's.\n"), data...), 0o644); err != nil {
		return err
	}
	_, mirrored, err := kignArtifacts(b.o.kign, inv)
	if err != nil {
		return err
	}
	paths, _, err := servePaths(mirrored, local)
	if err != nil {
		return err
	}
	if b.mirror, err = startMirror(b.ns, fmt.Sprintf("%s:%d", b.hub, port), paths); err != nil {
		return err
	}
	b.out = filepath.Join(b.dir, "out")
	cmd := exec.Command(b.o.kign, "gen", "--hosts", inv, "-o", b.out, "--pki", filepath.Join(b.dir, "pki"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kign gen: %v\n%s", err, out)
	}
	for _, f := range []string{".ign", ".ipxe", "-ignition.img", ".pointer.ign"} {
		if _, err := os.Stat(filepath.Join(b.out, b.h.name+f)); err != nil {
			return fmt.Errorf("kign gen wrote no %s%s: %w", b.h.name, f, err)
		}
	}
	b.logf("kign gen --hosts %s: %s.ipxe, -ignition.img, .pointer.ign; mirror %s serves %d artifacts", inv, b.h.name, mirrorURL, len(paths))
	return nil
}

// ipxeFiles reads kign's script: the kernel and initramfs URLs and the
// rootfs URL of its kernel line.
func ipxeFiles(script string) (kernel, initramfs, rootfs string, err error) {
	for _, l := range strings.Split(script, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 2 && f[0] == "kernel":
			kernel = f[1]
			for _, a := range f[2:] {
				if v, ok := strings.CutPrefix(a, "coreos.live.rootfs_url="); ok {
					rootfs = v
				}
			}
		case len(f) == 4 && f[0] == "initrd" && f[1] == "--name" && f[2] == "main":
			initramfs = f[3]
		}
	}
	if kernel == "" || initramfs == "" || rootfs == "" {
		err = fmt.Errorf("kign's iPXE script names no kernel, main initrd or rootfs:\n%s", script)
	}
	return
}

// serveBoot serves the live image under the URLs kign's script names, and
// the script and the host's -ignition.img from /boot/ (the provisioning
// network's HTTP server; the script fetches the .img relative to itself).
// DHCP (dnsmasq, DHCP only, on br0) gives the host its inventory address
// and the script's URL as the boot file.
func (b *bootLane) serveBoot(tos testOS) error {
	script, err := os.ReadFile(filepath.Join(b.out, b.h.name+".ipxe"))
	if err != nil {
		return err
	}
	kernel, initramfs, rootfs, err := ipxeFiles(string(script))
	if err != nil {
		return err
	}
	files := map[string]string{
		"/boot/" + b.h.name + ".ipxe":         filepath.Join(b.out, b.h.name+".ipxe"),
		"/boot/" + b.h.name + "-ignition.img": filepath.Join(b.out, b.h.name+"-ignition.img"),
	}
	for u, f := range map[string]string{kernel: tos.kernel, initramfs: tos.initramfs, rootfs: tos.rootfs} {
		prefix := fmt.Sprintf("http://%s:8080", b.hub)
		p, ok := strings.CutPrefix(u, prefix)
		if !ok {
			return fmt.Errorf("kign's script fetches %s, not from the images mirror %s", u, prefix)
		}
		files[p] = f
	}
	b.mirror.add(files)
	lease := filepath.Join(b.dir, "dnsmasq.leases")
	log := filepath.Join(b.dir, "dnsmasq.log")
	cmd := exec.Command("ip", "netns", "exec", b.ns, "dnsmasq", "--keep-in-foreground", "--port=0",
		"--interface=br0", "--bind-interfaces", "--conf-file=/dev/null", "--log-dhcp", "--log-facility="+log,
		"--dhcp-leasefile="+lease, "--pid-file="+filepath.Join(b.dir, "dnsmasq.pid"),
		fmt.Sprintf("--dhcp-range=%s,static,%s", b.subnet.Masked().Addr(), prefixMask(b.subnet)),
		fmt.Sprintf("--dhcp-host=%s,%s,%s", b.mac, b.h.ip, b.h.name),
		fmt.Sprintf("--dhcp-boot=http://%s:8080/boot/%s.ipxe", b.hub, b.h.name))
	if _, err := b.start(cmd, "dnsmasq"); err != nil {
		return err
	}
	b.logs = append(b.logs, log)
	b.logf("dnsmasq: DHCP on br0 (no DNS), %s -> %s, boot file http://%s:8080/boot/%s.ipxe", b.mac, b.h.ip, b.hub, b.h.name)
	return nil
}

func prefixMask(p netip.Prefix) string {
	m := uint32(0xffffffff) << (32 - p.Bits())
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// proc is a process the lane started; done is closed when it has exited.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// start starts cmd in its own process group with its output in
// WORK/name.out and records it.
func (b *bootLane) start(cmd *exec.Cmd, name string) (*proc, error) {
	f, err := os.Create(filepath.Join(b.dir, name+".out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	b.procs = append(b.procs, p)
	b.logs = append(b.logs, f.Name())
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// qemu boots the lane's machine on disk and waits for the test OS's report
// from a boot from disk. It returns the report and the wall time from
// QEMU's start to the report.
func (b *bootLane) qemu(ctx context.Context, name, disk string, extra ...string) (*bootReport, time.Duration, error) {
	console := filepath.Join(b.dir, name+".console")
	args := []string{"netns", "exec", b.ns, "qemu-system-x86_64",
		"-accel", "tcg,thread=multi", "-cpu", "max", "-m", strconv.Itoa(qemuMemMiB), "-smp", "2",
		"-nodefaults", "-display", "none", "-no-user-config",
		"-serial", "file:" + console,
		"-drive", "file=" + disk + ",format=raw,if=virtio",
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
		"-device", "virtio-net-pci,netdev=n0,mac=" + b.mac,
	}
	cmd := exec.Command("ip", append(args, extra...)...)
	t0 := time.Now()
	p, err := b.start(cmd, name+".qemu")
	if err != nil {
		return nil, 0, err
	}
	b.logs = append(b.logs, console)
	exited := p.done
	deadline := time.After(bootTimeout)
	var reportAt time.Duration
	for {
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-deadline:
			return nil, 0, fmt.Errorf("%s: no report from a boot from disk after %s:\n%s", name, bootTimeout, tailFile(console, 30))
		case <-exited:
			rep, err := readReport(console)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: QEMU exited (%v) without a report: %v\n%s", name, cmd.ProcessState, err, tailFile(console, 40))
			}
			if reportAt == 0 {
				reportAt = time.Since(t0)
			}
			return rep, reportAt, nil
		case <-time.After(500 * time.Millisecond):
		}
		data, _ := os.ReadFile(console)
		if reportAt == 0 && strings.Contains(string(data), "KIGN-E2E-REPORT-BEGIN mode=disk") {
			reportAt = time.Since(t0)
			b.logf("%s: the installed system reported after %.1f s; waiting for its power-off", name, reportAt.Seconds())
		}
		for _, bad := range []string{"kign-e2e-initramfs: FAILED", "Kernel panic"} {
			if strings.Contains(string(data), bad) {
				time.Sleep(3 * time.Second)
				return nil, 0, fmt.Errorf("%s: %q on the console:\n%s", name, bad, tailFile(console, 40))
			}
		}
	}
}

// bootReport is what the test OS's report unit printed.
type bootReport struct {
	mode, system string
	units        map[string]unitState
	lines        []string
}

// unitState is one "unit" line of the report: systemctl show's
// UnitFileState, ActiveState, SubState, InactiveExitTimestampMonotonic,
// ConditionResult and ConditionTimestampMonotonic.
type unitState struct {
	fileState, active, sub string
	inactiveExit           string // 0: it never left the inactive state
	condition, conditionAt string // ConditionResult is "no" until checked too
}

// started says systemd started the unit; skipped, that it checked the
// unit's condition and the condition failed.
func (u unitState) started() bool { return u.inactiveExit != "" && u.inactiveExit != "0" }
func (u unitState) skipped() bool {
	return u.condition == "no" && u.conditionAt != "" && u.conditionAt != "0"
}

var reportBegin = regexp.MustCompile(`KIGN-E2E-REPORT-BEGIN mode=(\S+) uptime=\S+ system=(\S*)`)

// readReport returns the last report of a boot from disk in console.
func readReport(console string) (*bootReport, error) {
	f, err := os.Open(console)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cur, last *bootReport
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if m := reportBegin.FindStringSubmatch(l); m != nil {
			cur = &bootReport{mode: m[1], system: m[2], units: map[string]unitState{}}
			continue
		}
		if cur == nil {
			continue
		}
		if strings.Contains(l, "KIGN-E2E-REPORT-END") {
			if cur.mode == "disk" {
				last = cur
			}
			cur = nil
			continue
		}
		cur.lines = append(cur.lines, l)
		if f := strings.Fields(l); len(f) == 8 && f[0] == "unit" {
			cur.units[f[1]] = unitState{fileState: f[2], active: f[3], sub: f[4], inactiveExit: f[5], condition: f[6], conditionAt: f[7]}
		}
	}
	if last == nil {
		return nil, fmt.Errorf("no complete report of a boot from disk")
	}
	return last, nil
}

// checkBoot checks a report against the host's config: every unit the
// config enables is enabled and was started by systemd; then the disk's
// root against the config (verifyRoot).
func (b *bootLane) checkBoot(name, disk string, rep *bootReport) error {
	h := &host{hostInfo: b.h, ign: filepath.Join(b.out, b.h.name+".ign")}
	want, err := enabledUnits(h)
	if err != nil {
		return err
	}
	var bad, skipped []string
	for _, u := range want {
		s, ok := rep.units[u]
		switch {
		case !ok:
			bad = append(bad, u+": not in the report (not enabled by Ignition's preset)")
		case s.fileState != "enabled":
			bad = append(bad, fmt.Sprintf("%s: %s, want enabled", u, s.fileState))
		case s.started():
		case s.skipped():
			skipped = append(skipped, u) // its condition says not on this boot
		default:
			bad = append(bad, fmt.Sprintf("%s: never started (%s/%s)", u, s.active, s.sub))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: kign's units on the booted system:\n  %s\nreport:\n  %s", name, strings.Join(bad, "\n  "), strings.Join(rep.lines, "\n  "))
	}
	b.logf("%s: systemd started %d of the %d units the config enables, skipped by their conditions: %v (system %s)", name, len(want)-len(skipped), len(want), skipped, rep.system)
	h.root = filepath.Join(b.dir, name+".root")
	if err := extractRoot(disk, h.root); err != nil {
		return err
	}
	problems, err := verifyRoot(h)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: the installed root differs from %s's config:\n  %s", name, b.h.name, strings.Join(problems, "\n  "))
	}
	b.logf("%s: the disk's root holds every file, folder, link and unit of %s's config", name, b.h.name)
	return nil
}

// extractRoot copies the root partition's files out of disk with debugfs
// (ownership and modes kept; nothing is mounted).
func extractRoot(disk, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dev := fmt.Sprintf("%s?offset=%d", disk, rootStart)
	out, err := exec.Command("debugfs", "-R", "rdump / "+dir, dev).CombinedOutput()
	if err != nil {
		return fmt.Errorf("debugfs rdump %s: %v\n%s", dev, err, tail(string(out), 10))
	}
	return nil
}

// pxeBoot boots the machine from the network onto an empty disk.
func (b *bootLane) pxeBoot(ctx context.Context, tos testOS) error {
	disk := filepath.Join(b.dir, "pxe-disk.raw")
	if err := exec.Command("truncate", "-s", fmt.Sprintf("%dM", diskMiB+512), disk).Run(); err != nil {
		return err
	}
	b.logf("PXE boot: QEMU (TCG), empty virtio disk, boot order disk then network")
	rep, took, err := b.qemu(ctx, "pxe", disk, "-boot", "order=cn")
	if err != nil {
		return err
	}
	console, _ := os.ReadFile(filepath.Join(b.dir, "pxe.console"))
	for _, want := range []string{
		"kign-e2e-initramfs: live boot, first boot: yes",
		"kign-e2e-initramfs: config: the appended initrd's /config.ign",
		"installer: install complete",
		"kign-e2e-initramfs: disk boot, first boot: yes",
		"kign-e2e-initramfs: config: the boot partition's ignition/config.ign",
	} {
		if !strings.Contains(string(console), want) {
			return fmt.Errorf("PXE boot: the console lacks %q:\n%s", want, tailFile(filepath.Join(b.dir, "pxe.console"), 40))
		}
	}
	if err := b.checkBoot("pxe", disk, rep); err != nil {
		return err
	}
	// Every artifact the mirror serves was downloaded by the installed
	// system's Ignition (fetchedBy lists only paths fetched at least once).
	fetched := b.mirror.fetchedBy()
	for p := range b.mirror.files {
		if strings.HasPrefix(p, "/kign/") && fetched[p] == 0 {
			return fmt.Errorf("PXE boot: the installed system never fetched %s", p)
		}
	}
	fmt.Fprintf(b.o.progress, "e2e: PXE boot to systemd in %.1f s\n", took.Seconds())
	return nil
}

// pointerBoot boots a fresh OS image (platform qemu) with only the
// pointer config in fw_cfg; `kign serve` hands out the full config.
func (b *bootLane) pointerBoot(ctx context.Context, tos testOS) error {
	inv := filepath.Join(b.dir, "hosts.yaml")
	serve := exec.Command("ip", "netns", "exec", b.ns, b.o.kign, "serve", "--hosts", inv, "--out", b.out, "--pki", filepath.Join(b.dir, "pki"))
	if _, err := b.start(serve, "kign-serve"); err != nil {
		return err
	}
	disk := filepath.Join(b.dir, "pointer-disk.raw")
	if err := copySparse(tos.disk, disk); err != nil {
		return err
	}
	if err := writeBootConfig(disk, "qemu"); err != nil {
		return err
	}
	if err := exec.Command("truncate", "-s", fmt.Sprintf("%dM", diskMiB+512), disk).Run(); err != nil {
		return err
	}
	pointer, err := filepath.Abs(filepath.Join(b.out, b.h.name+".pointer.ign"))
	if err != nil {
		return err
	}
	b.logf("pointer boot: QEMU (TCG), the OS image for qemu, -fw_cfg name=opt/com.coreos/config,file=%s", pointer)
	rep, took, err := b.qemu(ctx, "pointer", disk, "-boot", "order=c", "-fw_cfg", "name=opt/com.coreos/config,file="+pointer)
	if err != nil {
		return err
	}
	console, _ := os.ReadFile(filepath.Join(b.dir, "pointer.console"))
	if !strings.Contains(string(console), "kign-e2e-initramfs: config: from the platform (qemu)") {
		return fmt.Errorf("pointer boot: the initramfs did not read the platform's config:\n%s", tailFile(filepath.Join(b.dir, "pointer.console"), 40))
	}
	if err := b.checkBoot("pointer", disk, rep); err != nil {
		return err
	}
	served, _ := os.ReadFile(filepath.Join(b.dir, "kign-serve.out"))
	if !regexp.MustCompile(`"path":"/ignition/` + regexp.QuoteMeta(b.h.name) + `\.ign"[^\n]*"status":200`).Match(served) {
		return fmt.Errorf("pointer boot: kign serve did not hand out %s's config:\n%s", b.h.name, tail(string(served), 10))
	}
	fmt.Fprintf(b.o.progress, "e2e: pointer boot to systemd in %.1f s\n", took.Seconds())
	return nil
}

func copySparse(src, dst string) error {
	out, err := exec.Command("cp", "--sparse=always", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp %s: %v: %s", src, err, out)
	}
	return nil
}

// diagnose prints the tails of the lane's logs.
func (b *bootLane) diagnose() {
	for _, l := range b.logs {
		fmt.Fprintf(b.o.progress, "--- %s\n%s\n", l, tailFile(l, 25))
	}
}

// teardown ends the lane's processes by PID, deletes its namespace and,
// unless kept, its work folder.
func (b *bootLane) teardown() []error {
	var errs []error
	for i := len(b.procs) - 1; i >= 0; i-- {
		p := b.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	b.mirror.close()
	if b.ns != "" {
		if _, err := os.Stat(nsPath(b.ns)); err == nil {
			if _, err := ipCmd("netns", "delete", b.ns); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if b.dir != "" && !b.o.keep {
		if err := os.RemoveAll(b.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
