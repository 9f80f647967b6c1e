// Command installer is the test OS's coreos-installer (e2e/bootlane_test.go):
// what Fedora CoreOS's live system does when /etc/coreos/installer.d holds
// an installer config, for the keys kign writes. coreos-installer itself is
// Rust, not packaged by Debian bookworm, and its crates are not reachable
// here, so the boot lane's test OS carries this program instead; e2e/README.md
// lists it among the deviations.
//
// As coreos-installer (src/cmdline/install.rs, src/install.rs;
// docs/customizing-install.md) it reads every *.yaml file of the folder in
// lexical order, later files overriding earlier keys, refuses unknown keys,
// writes the OS image to dest-device (here the image the live system
// carries, as the offline osmet install does), copies ignition-file to the
// boot partition's ignition/config.ign and, with copy-network, the live
// system's NetworkManager keyfiles to its coreos-firstboot-network/.
//
//	installer FOLDER IMAGE
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"sigs.k8s.io/yaml"
)

// config is the part of coreos-installer's config file this program
// knows: the keys kign writes (internal/delivery coreOSInstallerConfig).
type config struct {
	DestDevice   string `json:"dest-device"`
	IgnitionFile string `json:"ignition-file"`
	CopyNetwork  bool   `json:"copy-network"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: installer FOLDER IMAGE")
		os.Exit(2)
	}
	if err := install(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "installer: %v\n", err)
		os.Exit(1)
	}
}

func install(folder, image string) error {
	cfg, files, err := readConfigs(folder)
	if err != nil {
		return err
	}
	if cfg.DestDevice == "" {
		return fmt.Errorf("%s: no dest-device", strings.Join(files, ", "))
	}
	fmt.Printf("installer: config %s: dest-device %s, ignition-file %q, copy-network %v\n", strings.Join(files, ", "), cfg.DestDevice, cfg.IgnitionFile, cfg.CopyNetwork)
	var ign []byte
	if cfg.IgnitionFile != "" {
		if ign, err = os.ReadFile(cfg.IgnitionFile); err != nil {
			return err
		}
	}
	dev, err := filepath.EvalSymlinks(cfg.DestDevice)
	if err != nil {
		return err
	}
	t0 := time.Now()
	n, err := writeImage(image, dev)
	if err != nil {
		return err
	}
	fmt.Printf("installer: wrote %s (%d MiB) to %s in %.1f s\n", image, n>>20, dev, time.Since(t0).Seconds())
	boot, err := partition(dev, 1)
	if err != nil {
		return err
	}
	mnt := "/run/kign-e2e-installer/boot"
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return err
	}
	if err := syscall.Mount(boot, mnt, "vfat", 0, "umask=077"); err != nil {
		return fmt.Errorf("mount %s: %w", boot, err)
	}
	werr := writeBoot(mnt, ign, cfg.CopyNetwork)
	if err := syscall.Unmount(mnt, 0); err != nil && werr == nil {
		werr = err
	}
	syscall.Sync()
	if werr != nil {
		return werr
	}
	fmt.Println("installer: install complete")
	return nil
}

// readConfigs reads the folder's *.yaml files in lexical order into one
// config: each file sets only the keys it holds, so a later file overrides
// an earlier one key by key; an unknown key is an error.
func readConfigs(folder string) (config, []string, error) {
	paths, err := filepath.Glob(filepath.Join(folder, "*.yaml"))
	if err != nil {
		return config{}, nil, err
	}
	if len(paths) == 0 {
		return config{}, nil, fmt.Errorf("%s: no *.yaml installer config", folder)
	}
	sort.Strings(paths)
	var cfg config
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return config{}, nil, err
		}
		if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
			return config{}, nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return cfg, paths, nil
}

// writeImage copies the image to the device and has the kernel read its
// new partition table.
func writeImage(image, dev string) (int64, error) {
	in, err := os.Open(image)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(out, in, make([]byte, 4<<20))
	if err == nil {
		err = out.Sync()
	}
	if err != nil {
		out.Close()
		return n, fmt.Errorf("write %s: %w", dev, err)
	}
	const blkrrpart = 0x125f // linux/fs.h BLKRRPART
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, out.Fd(), blkrrpart, uintptr(unsafe.Pointer(nil))); e != 0 {
		out.Close()
		return n, fmt.Errorf("re-read the partition table of %s: %v", dev, e)
	}
	return n, out.Close()
}

// partition returns the device node of partition i of dev, once it exists.
func partition(dev string, i int) (string, error) {
	sep := ""
	if c := dev[len(dev)-1]; c >= '0' && c <= '9' {
		sep = "p" // nvme0n1p1, mmcblk0p1
	}
	p := fmt.Sprintf("%s%s%d", dev, sep, i)
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(200 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s did not appear after the install", p)
}

// writeBoot writes the installed system's config (ignition/config.ign) and
// the live system's network keyfiles to the mounted boot partition.
func writeBoot(boot string, ign []byte, copyNetwork bool) error {
	if ign != nil {
		if err := os.MkdirAll(filepath.Join(boot, "ignition"), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(boot, "ignition/config.ign"), ign, 0o600); err != nil {
			return err
		}
		fmt.Printf("installer: ignition/config.ign written (%d bytes)\n", len(ign))
	}
	if !copyNetwork {
		return nil
	}
	src := "/etc/NetworkManager/system-connections"
	keyfiles, err := filepath.Glob(filepath.Join(src, "*.nmconnection"))
	if err != nil || len(keyfiles) == 0 {
		return fmt.Errorf("copy-network: no keyfile in %s", src)
	}
	dst := filepath.Join(boot, "coreos-firstboot-network")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, k := range keyfiles {
		data, err := os.ReadFile(k)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(k)), data, 0o600); err != nil {
			return err
		}
		fmt.Printf("installer: copy-network: %s\n", filepath.Base(k))
	}
	return nil
}
