//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// runSandbox runs as PID 1 of a new PID namespace in a new mount namespace
// (the kubelet side starts it so). It builds the container's root on a
// tmpfs, mounts the hostPath volumes at their mountPaths, chroots and execs
// the container's command.
func runSandbox(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: podrun sandbox SPEC.json")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "podrun sandbox:", err)
		return 1
	}
	var s runSpec
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintln(os.Stderr, "podrun sandbox:", err)
		return 1
	}
	if err := enterSandbox(&s); err != nil {
		fmt.Fprintf(os.Stderr, "podrun: container %q of pod %q: %v\n", s.Container, s.Pod, err)
		return 128
	}
	return 0 // not reached: enterSandbox execs
}

func enterSandbox(s *runSpec) error {
	// Nothing mounted here may leak back into the host root.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	root := s.Root
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("tmpfs", root, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs root: %w", err)
	}
	for _, d := range []string{"usr", "proc", "dev", "sys", "tmp", "run", "etc", "var/tmp", "root", imagesDir[1:]} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		return err
	}
	// The "image": the machine's /usr, read-only, with the usual merged-/usr
	// links, and the test's binaries.
	if err := bind("/usr", filepath.Join(root, "usr"), true, true); err != nil {
		return err
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		if target, err := os.Readlink("/" + l); err == nil {
			if err := os.Symlink(strings.TrimPrefix(target, "/"), filepath.Join(root, l)); err != nil {
				return err
			}
		}
	}
	if err := bind(s.Images, filepath.Join(root, imagesDir), true, true); err != nil {
		return err
	}
	if err := syscall.Mount("proc", filepath.Join(root, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	// As container runtimes do, /proc/sys is read-only; a privileged
	// container may write the sysctls of its (the host's) network namespace.
	procSys := filepath.Join(root, "proc/sys")
	if err := bind(procSys, procSys, true, false); err != nil {
		return err
	}
	if s.Privileged {
		if err := bind(procSys+"/net", procSys+"/net", false, false); err != nil {
			return err
		}
		if err := shimInitNetnsSysctls(root); err != nil {
			return err
		}
	}
	if err := bind("/dev", filepath.Join(root, "dev"), false, true); err != nil {
		return err
	}
	// A fresh sysfs, as a container runtime mounts it (the booted root's
	// own /sys is systemd-nspawn's trimmed view, without /sys/module).
	// Read-only even for privileged containers: its module parameters are
	// the machine's, shared by every host of the test.
	if err := syscall.Mount("sysfs", filepath.Join(root, "sys"), "sysfs", syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount sysfs: %w", err)
	}
	etc := map[string]string{
		"passwd":        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"group":         "root:x:0:\nnogroup:x:65534:\n",
		"hosts":         "127.0.0.1\tlocalhost\n",
		"nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	}
	if h, err := os.ReadFile("/etc/hostname"); err == nil {
		etc["hostname"] = string(h)
	}
	for name, content := range etc {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		dst, err := resolveIn(root, m.Target)
		if err != nil {
			return fmt.Errorf("volume %q at %s: %w", m.Volume, m.Target, err)
		}
		if err := mountPoint(dst, m.Dir); err != nil {
			return fmt.Errorf("volume %q at %s: %w", m.Volume, m.Target, err)
		}
		if err := bind(m.Source, dst, m.ReadOnly, true); err != nil {
			return fmt.Errorf("volume %q: %w", m.Volume, err)
		}
	}
	if err := syscall.Chroot(root); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	wd := s.WorkDir
	if wd == "" {
		wd = "/"
	}
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("working dir: %w", err)
	}
	env := []string{
		"PATH=" + imagesDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
	}
	if h, ok := etc["hostname"]; ok {
		env = append(env, "HOSTNAME="+strings.TrimSpace(h))
	}
	env = append(env, s.Env...)
	os.Clearenv()
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		os.Setenv(k, v)
	}
	path, err := exec.LookPath(s.Argv[0])
	if err != nil {
		return fmt.Errorf("exec %q: %w", s.Argv[0], err)
	}
	return syscall.Exec(path, s.Argv, os.Environ())
}

// initNetnsSysctls are sysctls under /proc/sys/net that the kernel lets
// only the initial network namespace write (they are read-only in every
// other one). On a machine, host-network pods run in the initial namespace
// and kube-proxy sets net/netfilter/nf_conntrack_max there; here every host
// is a namespace of its own, and the machine's value must not change. So a
// privileged container sees a writable file holding the current value in
// its place: the write succeeds and goes nowhere.
var initNetnsSysctls = []string{"net/netfilter/nf_conntrack_max"}

func shimInitNetnsSysctls(root string) error {
	dir := filepath.Join(root, "run/.kign-e2e-sysctl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, k := range initNetnsSysctls {
		real := filepath.Join(root, "proc/sys", k)
		fi, err := os.Stat(real)
		if err != nil || fi.Mode().Perm()&0o200 != 0 {
			continue // absent, or writable here: nothing to stand in for
		}
		v, err := os.ReadFile(real)
		if err != nil {
			return err
		}
		shim := filepath.Join(dir, strings.ReplaceAll(k, "/", "."))
		if err := os.WriteFile(shim, v, 0o644); err != nil {
			return err
		}
		if err := bind(shim, real, false, false); err != nil {
			return err
		}
	}
	return nil
}

// bind bind-mounts src on dst, read-only if ro, else writable even when
// src lies in a read-only mount.
func bind(src, dst string, ro, recursive bool) error {
	flags := uintptr(syscall.MS_BIND)
	if recursive {
		flags |= syscall.MS_REC
	}
	if err := syscall.Mount(src, dst, "", flags, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, dst, err)
	}
	remount := flags | syscall.MS_REMOUNT
	if ro {
		remount |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("", dst, "", remount, ""); err != nil {
		return fmt.Errorf("remount %s (read-only %v): %w", dst, ro, err)
	}
	return nil
}

// mountPoint creates an empty folder or file at dst to mount over, as a
// container runtime does in the container's writable layer.
func mountPoint(dst string, dir bool) error {
	if dir {
		return os.MkdirAll(dst, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if fi, err := os.Stat(dst); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("a folder is in the way of file mount %s", dst)
		}
		return nil
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// resolveIn resolves path inside root, following symbolic links as if root
// were "/" (as runc's securejoin does), and returns the host-side path.
func resolveIn(root, path string) (string, error) {
	parts := strings.Split(strings.Trim(filepath.Clean(path), "/"), "/")
	cur := root
	for hops := 0; len(parts) > 0; {
		p := parts[0]
		parts = parts[1:]
		if p == "" || p == "." {
			continue
		}
		if p == ".." {
			if cur != root {
				cur = filepath.Dir(cur)
			}
			continue
		}
		next := filepath.Join(cur, p)
		fi, err := os.Lstat(next)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("too many symbolic links in %s", path)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			cur = root
		}
		parts = append(strings.Split(strings.Trim(target, "/"), "/"), parts...)
	}
	return cur, nil
}
