package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// imageRow is one `image NAME REF` line of kign artifacts.
type imageRow struct{ name, ref string }

// kignImages lists the images kign's configs for hosts name.
func kignImages(kign, hosts string) ([]imageRow, error) {
	out, err := exec.Command(kign, "artifacts", "--hosts", hosts).Output()
	if err != nil {
		return nil, fmt.Errorf("kign artifacts --hosts %s: %v", hosts, err)
	}
	var rows []imageRow
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "image" {
			rows = append(rows, imageRow{name: f[1], ref: f[2]})
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("kign artifacts --hosts %s lists no image", hosts)
	}
	return rows, nil
}

// imageTag is the tag of ref (after the last colon of its last path part).
func imageTag(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return ""
}

// netcheckRepo is the test's own pod image (e2e/testimages/netcheck),
// pushed beside kign's images.
const netcheckRepo = "kign-e2e/netcheck:1"

// testBinaries builds the test's own image programs (pause, netcheck) into dir.
func testBinaries(repo, dir string) error {
	for _, p := range []string{"pause", "netcheck"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, p), "./testimages/"+p)
		cmd.Dir = filepath.Join(repo, "e2e")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./e2e/testimages/%s: %v\n%s", p, err, out)
		}
	}
	return nil
}

// imageFor is what the image kign names name holds, built from t: the
// binaries at the paths upstream's images have them, on PATH, plus the
// shared libraries of the dynamic ones (keepalived's, curl's and the
// shell for its check script; iptables for kube-proxy).
func imageFor(imgName string, t *tools, bins, scratch string) (imageSpec, error) {
	s := imageSpec{files: map[string]string{}, links: map[string]string{}}
	k8s := func(b string) { s.files["/usr/local/bin/"+b] = filepath.Join(t.K8sDir, b) }
	switch imgName {
	case "kube-apiserver", "kube-controller-manager", "kube-scheduler":
		k8s(imgName)
	case "kube-proxy":
		k8s(imgName)
		// iptables (nft backend), as in upstream's kube-proxy image.
		s.files["/usr/sbin/xtables-nft-multi"] = filepath.Join(t.UsrExtra, "sbin/xtables-nft-multi")
		for _, l := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
			s.links["/usr/sbin/"+l] = "xtables-nft-multi"
		}
		ext, _ := filepath.Glob(filepath.Join(t.UsrExtra, "lib/x86_64-linux-gnu/xtables/*.so"))
		for _, e := range ext {
			s.files["/usr/lib/x86_64-linux-gnu/xtables/"+filepath.Base(e)] = e
		}
	case "etcd":
		for _, b := range []string{"etcd", "etcdctl", "etcdutl"} {
			s.files["/usr/local/bin/"+b] = filepath.Join(t.EtcdDir, b)
		}
	case "pause":
		s.files["/pause"] = filepath.Join(bins, "pause")
		s.entrypoint = []string{"/pause"}
	case "coredns":
		s.files["/coredns"] = t.CoreDNS
		s.entrypoint = []string{"/coredns"}
	case "keepalived":
		s.files["/usr/sbin/keepalived"] = t.Keepalived
		s.files["/usr/bin/curl"] = "/usr/bin/curl"
		s.files["/bin/sh"] = "/bin/dash"
		// keepalived runs its check script as script_user root, looked up
		// in /etc/passwd, and writes its PID files to /run.
		for f, data := range map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n", "run/.keep": "", "tmp/.keep": ""} {
			p := filepath.Join(scratch, imgName, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return s, err
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				return s, err
			}
			s.files["/"+f] = p
		}
	case "netcheck":
		s.files["/netcheck"] = filepath.Join(bins, "netcheck")
		s.entrypoint = []string{"/netcheck"}
	default:
		return s, fmt.Errorf("image %q: the test does not know what to build for it (update e2e/runtime_test.go)", imgName)
	}
	err := withLibraries(s, []string{filepath.Join(t.UsrExtra, "lib/x86_64-linux-gnu")}, map[string]string{t.UsrExtra: "/usr"})
	return s, err
}

// pushImages builds and pushes every image of rows (and netcheck) to reg.
func (r *run) pushImages(ctx context.Context, reg *registry, t *tools, rows []imageRow) error {
	bins := filepath.Join(r.dir, "image-bin")
	if err := testBinaries(r.o.repo, bins); err != nil {
		return err
	}
	rows = append(rows, imageRow{name: "netcheck", ref: reg.addr + "/" + netcheckRepo})
	for _, row := range rows {
		if !strings.HasPrefix(row.ref, reg.addr+"/") {
			return fmt.Errorf("image %s is %s, not in the test registry %s: artifacts.imageRegistry was not applied", row.name, row.ref, reg.addr)
		}
		spec, err := imageFor(row.name, t, bins, filepath.Join(r.dir, "image-files"))
		if err != nil {
			return err
		}
		if err := reg.push(ctx, row.ref, spec); err != nil {
			return fmt.Errorf("push %s: %w", row.ref, err)
		}
	}
	return nil
}

// The drop-ins and unit the harness adds to every root for the real
// kubelet and containerd, each for a difference between this machine and
// a real one (e2e/README.md, "Test-specific pieces in a root"):
//
//   - kubelet: --config-dir with failCgroupV1: false (this machine's
//     cgroups are v1, hybrid; both target OSes boot cgroup v2, and the
//     kubelet refuses v1 by default: k8s.io/kubernetes
//     pkg/kubelet/apis/config/v1beta1/defaults.go sets FailCgroupV1 to
//     true when unset, v1.35 and v1.36) and disk eviction
//     thresholds of 1% (the roots share the machine's disk).
//   - containerd: kign's config.toml with restrict_oom_score_adj = true
//     added. The machine's capability bounding set lacks CAP_SYS_RESOURCE,
//     so runc cannot lower a container's oom_score_adj below containerd's.
//   - kign-e2e-node.service, before containerd and the kubelet: writable
//     files bound over vm/overcommit_memory, kernel/panic and
//     kernel/panic_on_oops (the kubelet sets them; they are machine-wide and
//     a container's /proc/sys is read-only, and the machine's values stay
//     unchanged), and /run/systemd/resolve/resolv.conf, which the kubelet
//     config names and systemd-resolved writes on both OSes (this machine
//     has no systemd-resolved); its nameserver is a documentation address
//     (RFC 5737) with no route, so a name outside the cluster fails at once.
const (
	runtimeDropin   = "90-kign-e2e-runtime.conf"
	kubeletConfDir  = "/etc/kign-e2e/kubelet.conf.d"
	nodeUnit        = "kign-e2e-node.service"
	containerdE2E   = "/run/kign-e2e/containerd.toml"
	criRuntimeTable = `[plugins."io.containerd.cri.v1.runtime"]`
)

func writeRuntimeDropins(root, kubeletUnit string) error {
	exec := execStart(kubeletUnit)
	if exec == "" {
		return fmt.Errorf("kubelet.service: no ExecStart")
	}
	cfgFile, err := os.ReadFile(filepath.Join(root, "etc/containerd/config.toml"))
	if err != nil {
		return fmt.Errorf("containerd config: %w", err)
	}
	if !strings.Contains(string(cfgFile), "\n  "+criRuntimeTable+"\n") {
		return fmt.Errorf("/etc/containerd/config.toml has no %s table for the harness to add restrict_oom_score_adj to", criRuntimeTable)
	}
	files := map[string]string{
		"etc/systemd/system/kubelet.service.d/" + runtimeDropin: `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign.
# This machine's cgroups are v1; the target OSes boot cgroup v2.
[Service]
ExecStart=
ExecStart=` + exec + ` --config-dir=` + kubeletConfDir + `
`,
		strings.TrimPrefix(kubeletConfDir, "/") + "/90-kign-e2e.conf": `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine's cgroups are v1; the target OSes boot cgroup v2.
failCgroupV1: false
# Every host's root is a folder on the machine's one disk, so the disk
# signals would evict pods for the machine's fill level (its other
# files), not the host's: the disk thresholds are 1%, memory's is the
# kubelet's default (a partial evictionHard zeroes what it leaves out).
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
  imagefs.inodesFree: 1%
`,
		"etc/systemd/system/containerd.service.d/" + runtimeDropin: `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign.
# kign's /etc/containerd/config.toml plus restrict_oom_score_adj = true:
# this machine's capability bounding set lacks CAP_SYS_RESOURCE.
[Service]
ExecStartPre=/usr/bin/sh /etc/kign-e2e/containerd-config.sh
ExecStart=
ExecStart=/usr/bin/containerd --config ` + containerdE2E + `
`,
		"etc/kign-e2e/containerd-config.sh": `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign.
set -e
mkdir -p /run/kign-e2e
sed 's/^  \[plugins."io.containerd.cri.v1.runtime"\]$/&\n    restrict_oom_score_adj = true/' /etc/containerd/config.toml > ` + containerdE2E + `.tmp
grep -q '^    restrict_oom_score_adj = true$' ` + containerdE2E + `.tmp
mv ` + containerdE2E + `.tmp ` + containerdE2E + `
`,
		"etc/kign-e2e/node.sh": `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign.
set -e
mkdir -p /run/kign-e2e/sysctl /run/systemd/resolve
for s in vm/overcommit_memory=1 kernel/panic=10 kernel/panic_on_oops=1; do
	f=${s%%=*}
	n=$(echo "$f" | tr / .)
	echo "${s#*=}" > /run/kign-e2e/sysctl/$n
	mount --bind /run/kign-e2e/sysctl/$n /proc/sys/$f
done
echo "nameserver 192.0.2.53" > /run/systemd/resolve/resolv.conf
`,
		"etc/systemd/system/" + nodeUnit: `# Written by kign's end-to-end test (e2e/runtime_test.go), not by kign:
# what a container on this machine lacks and a machine has.
[Unit]
Description=kign e2e: kernel settings and resolv.conf of a machine
DefaultDependencies=no
Before=containerd.service kubelet.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/bin/sh /etc/kign-e2e/node.sh
[Install]
WantedBy=multi-user.target
`,
	}
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			return err
		}
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../"+nodeUnit, filepath.Join(wants, nodeUnit)); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

// execStart is a unit's ExecStart= command with its continuation lines
// joined.
func execStart(unit string) string {
	lines := strings.Split(unit, "\n")
	for i, l := range lines {
		v, ok := strings.CutPrefix(l, "ExecStart=")
		if !ok || v == "" {
			continue
		}
		cmd := strings.TrimSpace(v)
		for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
			i++
			cmd = strings.TrimSpace(strings.TrimSuffix(cmd, "\\")) + " " + strings.TrimSpace(lines[i])
		}
		return cmd
	}
	return ""
}

// writeNodeSoftware puts the OS image's node software into the /usr
// layer dir: containerd, its shim, ctr and runc at /usr/bin (where Fedora
// CoreOS and Flatcar have them) and containerd's unit (upstream's, with
// that path) in /usr/lib/systemd/system.
func writeNodeSoftware(dir string, t *tools) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	for _, b := range []string{"containerd", "containerd-shim-runc-v2", "ctr"} {
		if err := linkOrCopy(filepath.Join(t.ContainerdDir, b), filepath.Join(bin, b)); err != nil {
			return err
		}
	}
	if err := linkOrCopy(t.Runc, filepath.Join(bin, "runc")); err != nil {
		return err
	}
	unit, err := os.ReadFile(filepath.Join(t.ContainerdDir, "containerd.service"))
	if err != nil {
		return err
	}
	unit = bytes.ReplaceAll(unit, []byte("ExecStart=/usr/local/bin/containerd"), []byte("ExecStart=/usr/bin/containerd"))
	d := filepath.Join(dir, "lib/systemd/system")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "containerd.service"), unit, 0o644)
}

// hostCgroups is h's own cgroup in every hierarchy of this machine
// (hybrid: v1 controllers plus a cgroup2 mount with no controller), below
// this process's own. nspawn is started in them: in hybrid mode it takes
// its own cgroup from the cgroup2 hierarchy and puts itself into
// <own>/supervisor and the container into <own>/payload there and in the
// name=systemd one, and gives the container a cgroup namespace rooted at
// those, so the paths in the container's /proc/1/cgroup are "/" (runc's
// systemd driver joins "/proc/1/cgroup's path + slice + scope" for exec:
// opencontainers/runc libcontainer/cgroups/systemd/v1.go getSubsystemPath,
// v1.1). The nspawn behaviour above was observed here with systemd 252.
// The container sees, at /sys/fs/cgroup/<hierarchy>, exactly the folder
// that is its root: its systemd, the kubelet and runc create the pods'
// cgroups there, never in the machine's root cgroups.
type hostCgroups struct {
	paths map[string]string // hierarchy folder under /sys/fs/cgroup -> absolute path of the subtree
}

// makeHostCgroups creates h's cgroups (cpuset's cpus and mems copied from
// the parent).
func makeHostCgroups(id string) (*hostCgroups, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	c := &hostCgroups{paths: map[string]string{}}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		dir := strings.TrimPrefix(f[1], "name=")
		if f[0] == "0" && f[1] == "" {
			dir = "unified"
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", dir, "cgroup.procs")); err != nil {
			continue
		}
		parent := filepath.Join("/sys/fs/cgroup", dir, f[2])
		p := filepath.Join(parent, id)
		c.paths[dir] = p
		if err := os.MkdirAll(p, 0o755); err != nil {
			c.remove()
			return nil, err
		}
		if dir == "cpuset" {
			for _, k := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(parent, k))
				if err == nil {
					err = os.WriteFile(filepath.Join(p, k), v, 0o644)
				}
				if err != nil {
					c.remove()
					return nil, fmt.Errorf("cgroup %s: %w", k, err)
				}
			}
		}
	}
	if c.paths["systemd"] == "" || c.paths["unified"] == "" {
		return nil, fmt.Errorf("this machine's cgroups are not the hybrid layout the harness knows (name=systemd and a cgroup2 mount at /sys/fs/cgroup/unified): %s", data)
	}
	if err := os.MkdirAll(filepath.Join(c.paths["systemd"], "payload"), 0o755); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

// nspawnArgs bind each v1 hierarchy's subtree (the systemd one's payload)
// where the container looks for it, over a tmpfs at /sys/fs/cgroup.
func (c *hostCgroups) nspawnArgs() []string {
	args := []string{"--tmpfs=/sys/fs/cgroup:mode=755"}
	for _, dir := range slices.Sorted(maps.Keys(c.paths)) {
		src := c.paths[dir]
		switch dir {
		case "unified":
			continue
		case "systemd":
			src = filepath.Join(src, "payload")
		}
		args = append(args, "--bind="+src+":/sys/fs/cgroup/"+dir)
	}
	return args
}

// procsFiles are the cgroup.procs files nspawn is started in.
func (c *hostCgroups) procsFiles() []string {
	var out []string
	for _, dir := range slices.Sorted(maps.Keys(c.paths)) {
		out = append(out, filepath.Join(c.paths[dir], "cgroup.procs"))
	}
	return out
}

// remove deletes the subtrees, deepest first (their processes are gone).
func (c *hostCgroups) remove() []error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, p := range c.paths {
		var dirs []string
		filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !os.IsNotExist(err) {
				errs = append(errs, fmt.Errorf("cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errs
}
