package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// buildTestOS assembles the boot lane's test OS in WORK/testos from the
// cached base (hack/e2e-testos.sh): the root gets the nspawn lane's node
// software (containerd 2.x, its shim, runc), Fedora CoreOS's /usr/local
// link, the kernel modules and the test OS's own units (e2e/testos/); the
// OS image is that root on a disk; the live rootfs is the same root with
// the OS image inside (what the live system installs, as Fedora CoreOS's
// live image carries its own osmet copy).
func (b *bootLane) buildTestOS() (testOS, error) {
	dir := filepath.Join(b.dir, "testos")
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return testOS{}, err
	}
	if err := runCmd("cp", "-a", filepath.Join(b.base, "root"), root); err != nil {
		return testOS{}, err
	}
	kver, err := os.ReadFile(filepath.Join(b.base, "KVER"))
	if err != nil {
		return testOS{}, err
	}
	usr := filepath.Join(root, "usr")
	if err := os.RemoveAll(filepath.Join(usr, "local")); err != nil {
		return testOS{}, err
	}
	if err := writeNodeSoftware(usr, b.tools); err != nil {
		return testOS{}, err
	}
	if err := os.Symlink(usrLocalTarget, filepath.Join(usr, "local")); err != nil {
		return testOS{}, err
	}
	if err := os.MkdirAll(filepath.Join(root, "var/usrlocal"), 0o755); err != nil {
		return testOS{}, err
	}
	if err := runCmd("cp", "-a", filepath.Join(b.base, "modules/lib/modules"), filepath.Join(usr, "lib/")); err != nil {
		return testOS{}, err
	}
	testos := filepath.Join(b.o.repo, "e2e/testos")
	for src, dst := range map[string]string{
		"kign-e2e-install.service": "lib/systemd/system/kign-e2e-install.service",
		"kign-e2e-report.service":  "lib/systemd/system/kign-e2e-report.service",
		"testos.preset":            "lib/systemd/system-preset/85-kign-e2e-testos.preset",
		"report":                   "lib/kign-e2e/report",
	} {
		if err := copyFile(filepath.Join(testos, src), filepath.Join(usr, dst)); err != nil {
			return testOS{}, err
		}
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(usr, "lib/kign-e2e/installer"), "./testos/installer")
	build.Dir = filepath.Join(b.o.repo, "e2e")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return testOS{}, fmt.Errorf("go build ./e2e/testos/installer: %v\n%s", err, out)
	}

	tos := testOS{
		kernel:    filepath.Join(b.base, "vmlinuz"),
		initramfs: filepath.Join(dir, "initramfs.img"),
		rootfs:    filepath.Join(dir, "rootfs.img"),
		disk:      filepath.Join(dir, "disk.img"),
	}
	if err := b.buildInitramfs(filepath.Join(dir, "initramfs"), root, strings.TrimSpace(string(kver)), tos.initramfs); err != nil {
		return testOS{}, fmt.Errorf("initramfs: %w", err)
	}
	if err := buildDisk(tos.disk, root, tos.kernel, tos.initramfs); err != nil {
		return testOS{}, fmt.Errorf("OS image: %w", err)
	}
	// The live root: the same root, carrying the OS image it installs.
	if err := os.Link(tos.disk, filepath.Join(usr, "lib/kign-e2e/disk.img")); err != nil {
		return testOS{}, err
	}
	if err := runCmd("mksquashfs", root, filepath.Join(dir, "root.squashfs"), "-comp", "zstd", "-noappend", "-quiet", "-no-progress"); err != nil {
		return testOS{}, err
	}
	if err := cpioArchive(dir, []string{"root.squashfs"}, tos.rootfs, false); err != nil {
		return testOS{}, err
	}
	os.Remove(filepath.Join(dir, "root.squashfs"))
	return tos, nil
}

// initramfsModules are the modules the initramfs script loads; their
// dependencies come along (modules.dep).
var initramfsModules = []string{"virtio_pci", "virtio_blk", "virtio_net", "crc32c_generic", "ext4", "vfat", "nls_cp437", "nls_utf8", "nls_ascii", "loop", "squashfs", "overlay", "qemu_fw_cfg"}

// initramfsTools are the programs Ignition runs besides busybox's (users
// and groups: useradd --root); they and their libraries come from the root.
var initramfsTools = []string{"/usr/sbin/useradd", "/usr/sbin/usermod", "/usr/sbin/userdel", "/usr/sbin/groupadd", "/usr/sbin/groupmod", "/usr/sbin/groupdel"}

// buildInitramfs writes the test OS's initramfs (gzip'd newc cpio) to out,
// staged in dir: busybox, the init script, the real Ignition and its
// libraries, the tools above and the modules.
func (b *bootLane) buildInitramfs(dir, root, kver, out string) error {
	testos := filepath.Join(b.o.repo, "e2e/testos")
	for src, dst := range map[string]string{
		filepath.Join(b.base, "busybox"):       "bin/busybox",
		filepath.Join(testos, "init"):          "init",
		filepath.Join(testos, "udhcpc.script"): "etc/udhcpc.script",
		b.tools.Ignition:                       "usr/bin/ignition",
	} {
		if err := copyFile(src, filepath.Join(dir, dst)); err != nil {
			return err
		}
	}
	bins := map[string]string{b.tools.Ignition: "/usr/bin/ignition"}
	for _, t := range initramfsTools {
		if err := copyFile(filepath.Join(root, t), filepath.Join(dir, t)); err != nil {
			return err
		}
		bins[filepath.Join(root, t)] = t
	}
	for src := range bins {
		libs, err := sharedLibs(src)
		if err != nil {
			return err
		}
		for _, l := range libs {
			from := filepath.Join(root, l)
			if _, err := os.Stat(from); err != nil {
				from = l
			}
			if err := copyFile(from, filepath.Join(dir, l)); err != nil {
				return err
			}
		}
	}
	mods := filepath.Join(b.base, "modules/lib/modules", kver)
	deps, err := moduleClosure(filepath.Join(mods, "modules.dep"), initramfsModules)
	if err != nil {
		return err
	}
	for _, m := range append(deps, "modules.dep", "modules.builtin", "modules.order") {
		if err := copyFile(filepath.Join(mods, m), filepath.Join(dir, "lib/modules", kver, m)); err != nil {
			return err
		}
	}
	var files []string
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return cpioArchive(dir, files, out, true)
}

// sharedLibs lists the libraries ldd finds for bin (the interpreter too).
func sharedLibs(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, out)
	}
	var libs []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		for _, w := range f {
			if strings.HasPrefix(w, "/") {
				libs = append(libs, w)
				break
			}
		}
	}
	return libs, nil
}

// moduleClosure returns the module files of names and of everything they
// depend on, from a modules.dep.
func moduleClosure(depFile string, names []string) ([]string, error) {
	f, err := os.Open(depFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deps := map[string][]string{}
	byName := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		base := strings.TrimSuffix(filepath.Base(mod), ".ko")
		byName[strings.ReplaceAll(base, "-", "_")] = mod
	}
	seen := map[string]bool{}
	var add func(string)
	add = func(m string) {
		if seen[m] {
			return
		}
		seen[m] = true
		for _, d := range deps[m] {
			add(d)
		}
	}
	for _, n := range names {
		m, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("module %s is not in %s", n, depFile)
		}
		add(m)
	}
	out := make([]string, 0, len(seen))
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out, sc.Err()
}

// cpioArchive writes files (relative to dir) as a newc cpio archive owned
// by root, gzip'd if asked.
func cpioArchive(dir string, files []string, out string, gz bool) error {
	pipeline := "cpio --quiet -o -H newc -R 0:0"
	if gz {
		pipeline += " | gzip -1"
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-c", pipeline+` > "$1"`, "bash", out)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(strings.Join(files, "\n") + "\n")
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cpio %s: %v: %s", out, err, o)
	}
	return nil
}

// syslinuxConfig boots the OS image's kernel with platform as Ignition's
// platform (Fedora CoreOS builds one image per platform: metal, qemu, ...).
func syslinuxConfig(platform string) []byte {
	return []byte(fmt.Sprintf(`DEFAULT kign
PROMPT 0
TIMEOUT 0
LABEL kign
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=LABEL=root ignition.platform.id=%s console=ttyS0,115200n8 quiet systemd.show_status=0
`, platform))
}

// buildDisk writes the OS image (platform metal): an MBR with syslinux's
// boot code, the boot partition (FAT, label boot: syslinux, the kernel,
// the initramfs and the first-boot flag ignition.firstboot) and the root
// partition (ext4, label root, the files of root).
func buildDisk(disk, root, kernel, initramfs string) error {
	if err := runCmd("truncate", "-s", fmt.Sprintf("%dM", diskMiB), disk); err != nil {
		return err
	}
	table := fmt.Sprintf("label: dos\nstart=%d, size=%d, type=c, bootable\nstart=%d, type=83\n",
		bootStart/512, bootMiB<<20/512, rootStart/512)
	sf := exec.Command("sfdisk", "--quiet", disk)
	sf.Stdin = strings.NewReader(table)
	if out, err := sf.CombinedOutput(); err != nil {
		return fmt.Errorf("sfdisk: %v: %s", err, out)
	}
	if err := runCmd("dd", "if=/usr/lib/syslinux/mbr/mbr.bin", "of="+disk, "bs=440", "count=1", "conv=notrunc", "status=none"); err != nil {
		return err
	}
	if err := runCmd("mkfs.vfat", "-F", "16", "-n", "boot", fmt.Sprintf("--offset=%d", bootStart/512), disk, fmt.Sprint(bootMiB<<10)); err != nil {
		return err
	}
	img := fmt.Sprintf("%s@@%d", disk, bootStart)
	tmp, err := os.MkdirTemp(filepath.Dir(disk), "boot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "syslinux.cfg"), syslinuxConfig("metal"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "ignition.firstboot"), nil, 0o644); err != nil {
		return err
	}
	for src, dst := range map[string]string{kernel: "::vmlinuz", initramfs: "::initrd.img",
		filepath.Join(tmp, "syslinux.cfg"): "::syslinux.cfg", filepath.Join(tmp, "ignition.firstboot"): "::ignition.firstboot"} {
		if err := runCmd("mcopy", "-i", img, src, dst); err != nil {
			return err
		}
	}
	if err := runCmd("syslinux", "--offset", fmt.Sprint(bootStart), "--install", disk); err != nil {
		return err
	}
	return runCmd("mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, "-E", fmt.Sprintf("offset=%d", rootStart), disk, fmt.Sprintf("%dM", rootMiB))
}

// writeBootConfig replaces the OS image's syslinux.cfg with one for platform.
func writeBootConfig(disk, platform string) error {
	f, err := os.CreateTemp(filepath.Dir(disk), "syslinux-*.cfg")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	f.Write(syslinuxConfig(platform))
	f.Close()
	return runCmd("mcopy", "-o", "-i", fmt.Sprintf("%s@@%d", disk, bootStart), f.Name(), "::syslinux.cfg")
}

// runCmd runs a command, its output in the error.
func runCmd(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// copyFile copies src to dst (parents made), keeping src's mode.
func copyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, fi.Mode().Perm())
}
