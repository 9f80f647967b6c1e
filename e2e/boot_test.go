package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

// host is one inventory host of a run.
type host struct {
	hostInfo
	ns       string       // network namespace
	dir      string       // WORK/hosts/NAME
	root     string       // the Ignition-applied root, booted
	ignState string       // Ignition's cache and state files
	cgroups  *hostCgroups // this host's cgroup subtrees (while booted)
	ign      string       // the host's config from kign
	// manifests is the static pod folder (the kubelet config's staticPodPath).
	manifests string
	// kubeletBin and etcdctlBin are the binaries kign's kubelet.service and
	// flannel-netconf.service run (where the OS row puts them).
	kubeletBin, etcdctlBin string

	nspawn  *exec.Cmd
	exited  chan struct{}
	console *os.File
	initPID int       // PID of the container's systemd, in our PID namespace
	booted  time.Time // when this container was last started
}

// The only test-specific things put into a host root, at fixed places
// outside everything kign writes:
//
//   - /etc/os-release (systemd-nspawn requires one; the OS image has it),
//     the merged-/usr links bin, sbin, lib, lib64 (the OS image has them);
//   - the drop-ins of runtime_test.go (writeRuntimeDropins) for what a
//     container on this machine lacks and a machine has (cgroup v2, kernel
//     settings, systemd-resolved's file);
//   - a drop-in that lets systemd-sysctl.service write /proc/sys/net, the
//     only writable part of /proc/sys in a container.

// prepareRoot adds the test-specific pieces to h.root after Ignition ran.
func prepareRoot(h *host) error {
	osRelease, err := os.ReadFile("/usr/lib/os-release")
	if err != nil {
		return err
	}
	if err := writeIfMissing(filepath.Join(h.root, "etc/os-release"), osRelease, 0o644); err != nil {
		return err
	}
	// Both OS images ship /etc/hosts (containerd copies it into every
	// hostNetwork pod).
	if err := writeIfMissing(filepath.Join(h.root, "etc/hosts"), []byte("127.0.0.1 localhost\n::1 localhost\n"), 0o644); err != nil {
		return err
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		p := filepath.Join(h.root, l)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Symlink("usr/"+l, p); err != nil {
			return err
		}
	}
	// The kubelet reads staticPodPath from the file its --config flag
	// names; the checks read the static pods' files there.
	unit, err := os.ReadFile(filepath.Join(h.root, "etc/systemd/system/kubelet.service"))
	if err != nil {
		return fmt.Errorf("kubelet.service: %w", err)
	}
	kubeletConfig := flagValue(string(unit), "config")
	if kubeletConfig == "" {
		return fmt.Errorf("kubelet.service: ExecStart has no --config flag")
	}
	kc, err := os.ReadFile(filepath.Join(h.root, kubeletConfig))
	if err != nil {
		return fmt.Errorf("kubelet --config: %w", err)
	}
	var cfg struct {
		StaticPodPath string `json:"staticPodPath"`
	}
	if err := yaml.Unmarshal(kc, &cfg); err != nil || cfg.StaticPodPath == "" {
		return fmt.Errorf("%s: no staticPodPath (%v)", kubeletConfig, err)
	}
	h.manifests = cfg.StaticPodPath
	h.kubeletBin = execBinary(string(unit))
	netconf, err := os.ReadFile(filepath.Join(h.root, "etc/systemd/system/flannel-netconf.service"))
	if err != nil {
		return fmt.Errorf("flannel-netconf.service: %w", err)
	}
	h.etcdctlBin = execBinary(string(netconf))
	if h.kubeletBin == "" || h.etcdctlBin == "" {
		return fmt.Errorf("kubelet.service or flannel-netconf.service: no ExecStart binary")
	}
	if err := writeRuntimeDropins(h.root, string(unit)); err != nil {
		return err
	}
	// Every container here shares root's fs.inotify.max_user_instances
	// (e2e/inotify_test.go): the password agents' path units (each an
	// inotify watch on /run/systemd/ask-password) are masked; a headless
	// test host asks no passwords. The gettys go by systemd.getty_auto=0.
	for _, u := range []string{"systemd-ask-password-console.path", "systemd-ask-password-wall.path"} {
		p := filepath.Join(h.root, "etc/systemd/system", u)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Symlink("/dev/null", p); err != nil {
			return err
		}
	}
	// systemd-sysctl.service skips a read-only /proc/sys, which is what a
	// container has; /proc/sys/net (this host's network namespace) is
	// writable, so let it apply the sysctl.d files (kign's forwarding and
	// bridge settings) there, as at a machine's boot. Kernel-wide keys
	// stay read-only and systemd-sysctl ignores them.
	d := filepath.Join(h.root, "etc/systemd/system/systemd-sysctl.service.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "90-kign-e2e-netns.conf"), []byte(`# Written by kign's end-to-end test (e2e/boot_test.go), not by kign.
[Unit]
ConditionPathIsReadWrite=
ConditionPathIsReadWrite=/proc/sys/net/
`), 0o644)
}

func writeIfMissing(path string, data []byte, mode os.FileMode) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, data, mode)
}

// execBinary is the binary of a unit's (last) ExecStart= line.
func execBinary(unit string) string {
	bin := ""
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok && v != "" {
			bin = strings.Fields(v)[0]
		}
	}
	return bin
}

// flagValue finds --name=value or --name value in a unit's command lines.
func flagValue(unit, name string) string {
	re := regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `[= ]([^\s\\]+)`)
	if m := re.FindStringSubmatch(unit); m != nil {
		return m[1]
	}
	return ""
}

// osImagePreset is the preset policy of the OS images kign targets, laid
// over the machine's /usr: Fedora CoreOS and Flatcar enable only their own
// units and what Ignition enables (20-ignition.preset, read first); the
// machine's Debian presets would also enable systemd-networkd (whose
// wait-online then holds network-online.target, which kubelet.service
// waits for, although the host's link is configured), and the units of
// packages installed on the machine (keepalived.service, which would run
// kign's keepalived.conf a second time beside the static pod).
const osImagePreset = `# Written by kign's end-to-end test (e2e/boot_test.go): the OS image's
# policy. The network is configured before boot (by the test, as by the
# initramfs on a machine); everything not enabled by Ignition stays off.
enable kign-e2e-node.service
disable *
`

// writeOSImage writes the /usr layer holding osImagePreset into dir, the
// node software (writeNodeSoftware), and the image's own /usr/local link
// on Fedora CoreOS (see osLayout).
func writeOSImage(dir, osName string, t *tools) error {
	if err := writeNodeSoftware(dir, t); err != nil {
		return err
	}
	d := filepath.Join(dir, "lib/systemd/system-preset")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	if osName == "fcos" {
		if err := os.Symlink(usrLocalTarget, filepath.Join(dir, "local")); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(d, "85-kign-e2e-os-image.preset"), []byte(osImagePreset), 0o644)
}

// usrLocalTarget is where Fedora CoreOS's /usr/local points: its image has
// /usr/local -> ../var/usrlocal, so that /usr stays read-only while
// /usr/local/bin is writable (and labelled bin_t). kign puts its binaries
// there on FCOS (internal/osvariant).
const usrLocalTarget = "../var/usrlocal"

// osLayout gives a root, before Ignition writes it, the links of the OS
// image that decide where Ignition's files land: on Fedora CoreOS,
// /usr/local -> ../var/usrlocal, which Ignition follows as it does on a
// machine. The booted container's /usr is the machine's (an overlay), so
// without the link a file written to /usr/local/bin would be hidden.
func osLayout(root, osName string) error {
	if osName != "fcos" {
		return nil
	}
	for _, d := range []string{"usr", "var/usrlocal"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	return os.Symlink(usrLocalTarget, filepath.Join(root, "usr/local"))
}

// bootOptions are the machine-wide inputs to a boot.
type bootOptions struct {
	nspawnDir string // unpacked systemd-container
	usrExtra  string // laid over /usr (iptables, /usr/lib/modules)
	osImage   string // laid over that: the OS image's preset policy
	runID     string // names the hosts' cgroups
}

// boot starts h.root with systemd as PID 1 in h's network namespace.
func boot(h *host, o bootOptions) error {
	// A host booted again keeps its earlier console logs (console.1.log, ...).
	for n := 1; ; n++ {
		old := filepath.Join(h.dir, "console.log")
		if _, err := os.Stat(old); err != nil {
			break
		}
		if _, err := os.Stat(filepath.Join(h.dir, fmt.Sprintf("console.%d.log", n))); err == nil {
			continue
		}
		if err := os.Rename(old, filepath.Join(h.dir, fmt.Sprintf("console.%d.log", n))); err != nil {
			return err
		}
		break
	}
	console, err := os.Create(filepath.Join(h.dir, "console.log"))
	if err != nil {
		return err
	}
	h.console = console
	// The container's systemd, the kubelet and runc get this host's own
	// cgroup subtree in every hierarchy (made afresh at each boot).
	h.cgroups.remove()
	cg, err := makeHostCgroups("kign-e2e-" + o.runID + "-" + h.name)
	if err != nil {
		return err
	}
	h.cgroups = cg
	args := []string{
		"-D", h.root, "-b",
		"--machine=" + h.name,
		"--register=no", "--keep-unit",
		"--network-namespace-path=" + nsPath(h.ns),
		"--resolv-conf=off", "--timezone=off", "--link-journal=no",
		// The container owns its network namespace: keepalived adds the
		// VIP, flanneld makes its VXLAN device, systemd brings up lo.
		"--capability=CAP_NET_ADMIN",
		"--overlay-ro=/usr:" + o.usrExtra + ":" + o.osImage + ":/usr",
		// The kubelet reads /dev/kmsg (for OOM events) and exits without
		// it; runc joins a session keyring for every container.
		"--bind=/dev/kmsg", "--capability=CAP_SYSLOG", "--system-call-filter=@keyring",
	}
	args = append(args, cg.nspawnArgs()...)
	args = append(args,
		// Arguments for the container's systemd, which reads them as its
		// kernel command line: no interactive first-boot wizard (an empty
		// machine-id makes this boot a first boot, which applies presets).
		"systemd.firstboot=off",
		// No gettys (systemd-getty-generator, systemd 250 and later):
		// each holds an inotify instance, and the containers share root's
		// limit (e2e/inotify_test.go); the console is read from the log.
		"systemd.getty_auto=0",
	)
	// nspawn starts in the host's cgroups: a shell writes itself into each
	// cgroup.procs, then becomes systemd-nspawn.
	cmd := exec.Command("/bin/sh", append([]string{"-c", `for f in $KIGN_E2E_CGROUPS; do echo $$ > "$f" || exit 1; done; exec "$@"`, "sh",
		filepath.Join(o.nspawnDir, "usr/bin/systemd-nspawn")}, args...)...)
	cmd.Env = append(os.Environ(),
		"LD_LIBRARY_PATH="+filepath.Join(o.nspawnDir, "usr/lib/x86_64-linux-gnu/systemd")+":"+filepath.Join(o.nspawnDir, "usr/lib/x86_64-linux-gnu"),
		// /proc/sys/net is per network namespace: let the container's
		// systemd-sysctl write it, as on a machine (the rest stays read-only).
		"SYSTEMD_NSPAWN_API_VFS_WRITABLE=network",
		"KIGN_E2E_CGROUPS="+strings.Join(cg.procsFiles(), " "))
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("systemd-nspawn: %w", err)
	}
	h.nspawn = cmd
	h.booted = time.Now()
	h.exited = make(chan struct{})
	go func() { cmd.Wait(); close(h.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-h.exited:
			return fmt.Errorf("systemd-nspawn exited: %s\n%s", cmd.ProcessState, tailFile(console.Name(), 30))
		default:
		}
		if pid := containerInit(h.ns); pid > 0 {
			h.initPID = pid
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no systemd in netns %s after 30 s\n%s", h.ns, tailFile(console.Name(), 30))
}

// containerInit returns the PID of the process that is PID 1 of its own
// PID namespace and lives in network namespace ns: the container's systemd.
func containerInit(ns string) int {
	var want syscall.Stat_t
	if err := syscall.Stat(nsPath(ns), &want); err != nil {
		return 0
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st) != nil || st.Ino != want.Ino || st.Dev != want.Dev {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(status))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "NSpid:" && f[2] == "1" {
				return pid
			}
		}
	}
	return 0
}

// inContainer runs argv inside h's booted container (its mount, UTS, IPC,
// network and PID namespaces and root), as `machinectl shell` would.
func inContainer(ctx context.Context, h *host, argv ...string) (string, error) {
	return inContainerFor(ctx, h, 30*time.Second, argv...)
}

// inContainerFor is inContainer with a time limit of d.
func inContainerFor(ctx context.Context, h *host, d time.Duration, argv ...string) (string, error) {
	if h.initPID == 0 {
		return "", fmt.Errorf("%s is not booted", h.name)
	}
	args := append([]string{"-t", strconv.Itoa(h.initPID), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--",
		"/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "SYSTEMD_COLORS=0"}, argv...)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %s: %v: %s", h.name, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// halt stops h's container: SIGTERM to systemd-nspawn (a clean poweroff),
// then SIGKILL to the container's PID 1 (which ends its PID namespace) and
// to nspawn if it takes longer than grace.
func halt(h *host, grace time.Duration) {
	if h.nspawn == nil || h.nspawn.Process == nil {
		return
	}
	select {
	case <-h.exited:
		return
	default:
	}
	h.nspawn.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
		return
	case <-time.After(grace):
	}
	if h.initPID > 0 {
		syscall.Kill(h.initPID, syscall.SIGKILL)
	}
	select {
	case <-h.exited:
		return
	case <-time.After(5 * time.Second):
	}
	h.nspawn.Process.Kill()
	<-h.exited
}

func tailFile(path string, n int) string {
	data, _ := os.ReadFile(path)
	return tail(string(data), n)
}

// mountsUnder lists the mount points at or below dir (from our mount
// namespace), deepest first.
func mountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
