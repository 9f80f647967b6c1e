// Package osvariant is kign's table of operating systems: one row per OS
// that kign generates configs for, holding every fact about that OS that a
// stage of kign needs (config formats, where binaries may live, the
// container runtime's set-up, how it boots, installs, updates and
// configures its network, its image streams). Every stage reads its facts
// from the row of the plan's OS; no other package names an OS. Adding an OS,
// or moving one to the next Butane/Ignition spec, is one row here plus its
// tests (osvariant_test.go checks every row is complete).
package osvariant

import (
	"fmt"
	"strings"

	"github.com/coreos/ignition/v2/config/v3_4"
	"github.com/coreos/ignition/v2/config/v3_5"
	"github.com/coreos/vcontext/report"
)

// OS names, as cluster.os spells them.
const (
	FCOS    = "fcos"
	Flatcar = "flatcar"
)

// Installer is how a live (RAM) boot installs the OS to disk.
type Installer int

const (
	// CoreOSInstaller: the live system runs `coreos-installer install`,
	// configured by an installer config file in /etc/coreos/installer.d
	// (coreos/coreos-installer docs/customizing-install.md), then reboots.
	CoreOSInstaller Installer = iota + 1
	// FlatcarInstall: a unit in the live system runs `flatcar-install -d
	// DISK -i CONFIG` (flatcar/init bin/flatcar-install), then reboots.
	FlatcarInstall
)

// UpdateAgent is the OS's agent that applies OS updates and reboots.
type UpdateAgent int

const (
	// Zincati (Fedora CoreOS): strategies in /etc/zincati/config.d/*.toml
	// (coreos/zincati docs/usage/updates-strategy.md).
	Zincati UpdateAgent = iota + 1
	// Locksmith (Flatcar): update_engine downloads, locksmithd reboots per
	// REBOOT_STRATEGY and its reboot window, read from
	// /etc/flatcar/update.conf (flatcar docs, update-strategies.md).
	Locksmith
)

// NetworkFormat is how the OS takes a static network configuration.
type NetworkFormat int

const (
	// NMKeyfile: a NetworkManager keyfile in
	// /etc/NetworkManager/system-connections, mode 0600 (Fedora CoreOS
	// docs, sysconfig-network-configuration.adoc).
	NMKeyfile NetworkFormat = iota + 1
	// Networkd: a systemd-networkd .network file in /etc/systemd/network
	// (Flatcar docs, network-config-with-networkd.md).
	Networkd
)

// OS is one row of the table.
type OS struct {
	Name  string // cluster.os
	Title string // for messages

	// ButaneVariant and ButaneVersion are what kign's Butane documents
	// declare; IgnitionSpec is the spec they translate to, and Parse is
	// Ignition's own parser of that spec.
	ButaneVariant, ButaneVersion, IgnitionSpec string
	parse                                      func([]byte) (report.Report, error)

	// BinDir is where kign puts the binaries Ignition downloads (kubelet,
	// flanneld, etcdctl). ExecDirs are the folders whose files systemd may
	// execute on this OS; BinDir is one of them.
	BinDir   string
	ExecDirs []string

	// SELinux is true where the OS enforces SELinux by default: containerd
	// then labels containers (enable_selinux) and the static pods that read
	// host files run as spc_t (render/pods.go says why).
	SELinux bool
	// ContainerdExecStart, when set, replaces containerd.service's
	// ExecStart so that it reads kign's /etc/containerd/config.toml: the
	// OS's own unit points containerd at a config under /usr.
	ContainerdExecStart string

	// InitrdConfigPath is where the OS's initramfs reads a config from an
	// appended initrd; FwCfgName is QEMU's firmware-config name it reads.
	InitrdConfigPath string
	FwCfgName        string
	// ISOEmbed is true when the OS's live ISO has an Ignition embed area.
	ISOEmbed bool
	// Live kernel arguments: RootfsArg names the live rootfs URL (empty:
	// the initramfs holds /usr), FirstBootArgs make Ignition run, and
	// PlatformArg names the platform (empty: the OS takes none).
	RootfsArg     string
	FirstBootArgs []string
	PlatformArg   string
	// Installer installs a live boot to disk.
	Installer Installer

	Updates UpdateAgent
	// MultiDayWindows is true when the update agent takes a window on a
	// list of weekdays; false: one weekday or every day.
	MultiDayWindows bool
	Network         NetworkFormat

	// Streams are the OS's release streams (channels), the default first.
	Streams []string
}

// Table is every OS kign supports, the default first.
var Table = []OS{
	{
		Name: FCOS, Title: "Fedora CoreOS",
		// Butane fcos 1.6.0 → Ignition 3.5.0, what current Fedora CoreOS reads.
		ButaneVariant: "fcos", ButaneVersion: "1.6.0", IgnitionSpec: "3.5.0",
		parse: func(b []byte) (report.Report, error) { _, r, err := v3_5.Parse(b); return r, err },
		// /usr is read-only and /opt links to /var/opt, whose files SELinux
		// labels var_t: systemd (init_t) may not execute them, a unit fails
		// with 203/EXEC. /usr/local is /var/usrlocal, which the policy
		// labels like /usr (bin_t under bin/): Fedora selinux-policy
		// file_contexts.subs_dist "/var/usrlocal /usr/local";
		// coreos/fedora-coreos-tracker#1681; k0sproject/k0sctl#440.
		BinDir:   "/usr/local/bin",
		ExecDirs: []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"},
		SELinux:  true,
		// coreos-installer src/live/embed.rs INITRD_IGNITION_PATH.
		InitrdConfigPath: "config.ign",
		FwCfgName:        "opt/com.coreos/config",
		ISOEmbed:         true,
		// Fedora CoreOS docs, live-reference.adoc and live-booting-ipxe.adoc.
		RootfsArg:     "coreos.live.rootfs_url",
		FirstBootArgs: []string{"ignition.firstboot"},
		PlatformArg:   "ignition.platform.id",
		Installer:     CoreOSInstaller,
		Updates:       Zincati,
		// [[updates.periodic.window]] days = [...] (zincati docs/usage/updates-strategy.md).
		MultiDayWindows: true,
		Network:         NMKeyfile,
		Streams:         []string{"stable", "testing", "next"},
	},
	{
		Name: Flatcar, Title: "Flatcar Container Linux",
		ButaneVariant: "flatcar", ButaneVersion: "1.1.0", IgnitionSpec: "3.4.0",
		parse: func(b []byte) (report.Report, error) { _, r, err := v3_4.Parse(b); return r, err },
		// /usr is read-only (dm-verity); Flatcar documents /opt/bin for
		// binaries not in the image, and SELinux is permissive by default.
		BinDir:   "/opt/bin",
		ExecDirs: []string{"/usr/bin", "/usr/sbin", "/opt/bin"},
		SELinux:  false,
		// Flatcar's containerd.service runs with --config
		// /usr/share/containerd/config.toml.
		ContainerdExecStart: "/usr/bin/containerd --config /etc/containerd/config.toml",
		// flatcar-docs booting-with-pxe.md, "Adding a Custom OEM"; path
		// restored by flatcar/bootengine#88.
		InitrdConfigPath: "usr/share/oem/config.ign",
		FwCfgName:        "opt/org.flatcar-linux/config",
		ISOEmbed:         false,
		// flatcar-docs booting-with-ipxe.md.
		FirstBootArgs: []string{"flatcar.first_boot=1"},
		Installer:     FlatcarInstall,
		Updates:       Locksmith,
		Network:       Networkd,
		Streams:       []string{"stable", "beta", "alpha", "lts"},
	},
}

// Default is the OS an inventory gets without cluster.os.
const Default = FCOS

// Lookup returns the row of name.
func Lookup(name string) (OS, error) {
	for _, o := range Table {
		if o.Name == name {
			return o, nil
		}
	}
	return OS{}, fmt.Errorf("unknown OS %q (want %s)", name, strings.Join(Names(), " or "))
}

// MustLookup is Lookup for a name validation already accepted.
func MustLookup(name string) OS {
	o, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return o
}

// Names lists the OS names, the default first.
func Names() []string {
	out := make([]string, 0, len(Table))
	for _, o := range Table {
		out = append(out, o.Name)
	}
	return out
}

// BySpec returns the row whose configs have Ignition spec version spec.
func BySpec(spec string) (OS, bool) {
	for _, o := range Table {
		if o.IgnitionSpec == spec {
			return o, true
		}
	}
	return OS{}, false
}

// ByButane returns the row whose Butane documents declare variant and version.
func ByButane(variant, version string) (OS, bool) {
	for _, o := range Table {
		if o.ButaneVariant == variant && o.ButaneVersion == version {
			return o, true
		}
	}
	return OS{}, false
}

// Parse validates an Ignition config with the OS's own parser: an error,
// or any finding of the parser (warnings included), is an error.
func (o OS) Parse(ign []byte) error {
	rpt, err := o.parse(ign)
	if err != nil {
		return fmt.Errorf("ignition %s: %v\n%s", o.IgnitionSpec, err, rpt.String())
	}
	if len(rpt.Entries) > 0 {
		return fmt.Errorf("ignition %s:\n%s", o.IgnitionSpec, rpt.String())
	}
	return nil
}

// Executes reports whether systemd may execute the file at path on this OS:
// it lies directly in one of ExecDirs.
func (o OS) Executes(path string) bool {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return false
	}
	for _, d := range o.ExecDirs {
		if path[:i] == d {
			return true
		}
	}
	return false
}

// Bin is the path of a downloaded binary named name.
func (o OS) Bin(name string) string { return o.BinDir + "/" + name }
