package delivery

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	t35 "github.com/coreos/ignition/v2/config/v3_5/types"
	"github.com/vincent-petithory/dataurl"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/butane"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

// A master must run from disk: a live PXE or ISO boot runs from RAM, so
// every reboot would lose /var/lib/etcd, and a power cut of every master
// would quietly start a new, empty cluster. So what a live boot gets by
// default is an install config: Ignition applies it to the live system,
// which installs the OS to the host's install disk with the host's full
// config as the installed system's config, and reboots into the disk,
// where Ignition applies the full config on first boot. The full config
// thus travels inside the install config (in <host>-ignition.img, the ISO
// or matchbox) and is written to the disk by the installer; the installed
// system needs no network to get it.
const (
	// CoreOSInstallerConfig is the installer config file kign's live
	// config writes: the live system's coreos-installer-generator starts
	// the install when /etc/coreos/installer.d is not empty, and reboots
	// afterwards (coreos/coreos-installer systemd/coreos-installer-generator,
	// docs/customizing-install.md). The same file `coreos-installer pxe
	// customize --dest-device` writes (src/live/customize.rs).
	CoreOSInstallerConfig = "/etc/coreos/installer.d/0000-kign.yaml"
	// CoreOSDestConfig is the installed system's config in the live
	// system, the path `pxe customize --dest-ignition` uses. coreos-installer
	// writes it to the boot partition (ignition/config.ign), and Fedora
	// CoreOS deletes it there after the first boot
	// (coreos-ignition-firstboot-complete).
	CoreOSDestConfig = "/etc/coreos/dest.ign"
	// FlatcarDestConfig is the installed system's config in the live
	// system; flatcar-install -i copies it to the OEM partition's
	// config.ign, which the installed system's Ignition reads on first boot
	// (flatcar/init bin/flatcar-install write_ignition).
	FlatcarDestConfig = "/etc/kign/install.ign"
	// FlatcarInstallUnit runs flatcar-install in the live system, as
	// typhoon's Flatcar install profile does
	// (bare-metal/flatcar-linux/kubernetes/butane/install.yaml).
	FlatcarInstallUnit = "kign-install.service"
	flatcarInstall     = "/usr/bin/flatcar-install"
)

// coreOSInstallerConfig is the part of coreos-installer's config file kign
// sets (src/cmdline/install.rs InstallConfig, kebab-case, unknown keys
// refused).
type coreOSInstallerConfig struct {
	DestDevice   string `json:"dest-device"`
	IgnitionFile string `json:"ignition-file"`
	// CopyNetwork copies the live system's NetworkManager keyfiles to the
	// installed system's first boot, whose initramfs (Ignition fetching the
	// downloads) would otherwise only try DHCP
	// (coreos-installer --copy-network, docs/customizing-install.md).
	CopyNetwork bool `json:"copy-network,omitempty"`
}

// BootConfig is the config a live (RAM) boot of host h applies, given the
// host's full config: the install config (InstallConfig) unless the plan
// asks for live masters, then the full config itself.
func BootConfig(p *plan.Plan, h plan.Host, full []byte) ([]byte, error) {
	if p.Boot == inventory.BootLive {
		return full, nil
	}
	return InstallConfig(p, h, full)
}

// LiveBootWarning is shown on every run whose masters boot live.
const LiveBootWarning = "WARNING: delivery.boot is live: PXE and ISO boots run the masters from RAM and nothing installs them. " +
	"Every reboot wipes a master's etcd data; a power cut of all masters starts a new, empty cluster. " +
	"Use it for tests only; the default, delivery.boot: install, installs each master to its installDisk."

// InstallConfig returns the live system's config that installs the OS of
// the plan to h.InstallDisk with full as the installed system's config,
// then reboots. It has the OS's Ignition spec and is checked by its parser.
func InstallConfig(p *plan.Plan, h plan.Host, full []byte) ([]byte, error) {
	o := p.OS
	if !strings.HasPrefix(h.InstallDisk, "/dev/") || strings.ContainsAny(h.InstallDisk, " \t\n\"'\\") {
		return nil, fmt.Errorf("delivery: host %q: install disk %q is not a device path", h.Name, h.InstallDisk)
	}
	if len(full) == 0 {
		return nil, fmt.Errorf("delivery: host %q: no full config to install", h.Name)
	}
	cfg := t35.Config{Ignition: t35.Ignition{Version: o.IgnitionSpec}}
	switch o.Installer {
	case osvariant.CoreOSInstaller:
		// A static address goes into the live system too (NetworkManager
		// reads its keyfile there, so the install itself has the network)
		// and is copied to the installed system's first boot.
		keyfile, err := render.NetworkFile(o, h)
		if err != nil {
			return nil, err
		}
		ic, err := yaml.Marshal(coreOSInstallerConfig{DestDevice: h.InstallDisk, IgnitionFile: CoreOSDestConfig, CopyNetwork: keyfile != nil})
		if err != nil {
			return nil, err
		}
		cfg.Storage.Files = []t35.File{
			secretFile(CoreOSDestConfig, full),
			secretFile(CoreOSInstallerConfig, ic),
		}
		if keyfile != nil {
			cfg.Storage.Files = append(cfg.Storage.Files, secretFile(keyfile.Path, keyfile.Data))
		}
	case osvariant.FlatcarInstall:
		// flatcar-install fetches the image from the release server, or
		// from BASEURL/VERSION/ with -b, and checks its signature.
		args := []string{flatcarInstall, "-d", h.InstallDisk, "-C", p.Image.Stream, "-V", p.Image.Version}
		if p.Image.Mirror != "" {
			base, ok := p.Image.MirrorParent()
			if !ok {
				return nil, fmt.Errorf("delivery: images.mirror %s does not end in /%s: flatcar-install fetches BASEURL/VERSION/flatcar_production_image.bin.bz2", p.Image.Mirror, p.Image.Version)
			}
			args = append(args, "-b", base)
		}
		args = append(args, "-i", FlatcarDestConfig)
		exec, err := butane.ExecLine(args...)
		if err != nil {
			return nil, fmt.Errorf("delivery: host %q: %w", h.Name, err)
		}
		unit := fmt.Sprintf(`[Unit]
Description=Install %s to %s with host %s's config, then reboot into it (kign)
Wants=network-online.target
After=network-online.target
[Service]
Type=oneshot
ExecStart=%s
ExecStartPost=/usr/bin/udevadm settle
ExecStartPost=/usr/bin/systemctl --no-block reboot
[Install]
WantedBy=multi-user.target
`, o.Title, h.InstallDisk, h.Name, exec)
		cfg.Storage.Files = []t35.File{secretFile(FlatcarDestConfig, full)}
		cfg.Systemd.Units = []t35.Unit{{Name: FlatcarInstallUnit, Enabled: ptr.To(true), Contents: &unit}}
	default:
		return nil, fmt.Errorf("delivery: %s: no installer", o.Name)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := o.Parse(out); err != nil {
		return nil, fmt.Errorf("delivery: host %q: install config: %w", h.Name, err)
	}
	return out, nil
}

// secretFile is a root-only file with data as a base64 data URL.
func secretFile(path string, data []byte) t35.File {
	src := "data:;base64," + base64.StdEncoding.EncodeToString(data)
	return t35.File{
		Node: t35.Node{Path: path, Overwrite: ptr.To(true)},
		FileEmbedded1: t35.FileEmbedded1{
			Mode:     ptr.To(0o600),
			Contents: t35.Resource{Source: &src},
		},
	}
}

// Installed is what an install config (InstallConfig) makes a live system
// do, read back from the config itself.
type Installed struct {
	Disk   string // the disk the OS is installed to
	Config []byte // the installed system's config
	// Network is the live system's static network file, which the installer
	// copies to the installed system's first boot (CopyNetwork); nil: DHCP.
	Network []byte
}

// ReadInstallConfig reads an install config of OS o back: the disk it
// installs to and the config the installed system gets. Tests use it on
// unpacked initrds and ISOs; it is the inverse of InstallConfig.
func ReadInstallConfig(o osvariant.OS, ign []byte) (Installed, error) {
	var cfg t35.Config
	if err := o.Parse(ign); err != nil {
		return Installed{}, err
	}
	if err := json.Unmarshal(ign, &cfg); err != nil {
		return Installed{}, err
	}
	files := map[string][]byte{}
	for _, f := range cfg.Storage.Files {
		if f.Contents.Source == nil {
			continue
		}
		du, err := dataurl.DecodeString(*f.Contents.Source)
		if err != nil {
			return Installed{}, fmt.Errorf("%s: not a data URL: %w", f.Path, err)
		}
		files[f.Path] = du.Data
	}
	var in Installed
	switch o.Installer {
	case osvariant.CoreOSInstaller:
		var ic coreOSInstallerConfig
		if err := yaml.UnmarshalStrict(files[CoreOSInstallerConfig], &ic); err != nil {
			return Installed{}, fmt.Errorf("%s: %w", CoreOSInstallerConfig, err)
		}
		in = Installed{Disk: ic.DestDevice, Config: files[ic.IgnitionFile]}
		if ic.CopyNetwork {
			for p, data := range files {
				if strings.HasSuffix(p, ".nmconnection") {
					in.Network = data
				}
			}
			if in.Network == nil {
				return Installed{}, fmt.Errorf("copy-network without a keyfile in the live system")
			}
		}
	case osvariant.FlatcarInstall:
		for _, u := range cfg.Systemd.Units {
			if u.Name != FlatcarInstallUnit || u.Contents == nil || u.Enabled == nil || !*u.Enabled {
				continue
			}
			// ExecLine continues a command over lines ending in a backslash.
			for _, l := range strings.Split(strings.ReplaceAll(*u.Contents, "\\\n", " "), "\n") {
				argv := strings.Fields(strings.TrimPrefix(l, "ExecStart="))
				if !strings.HasPrefix(l, "ExecStart=") || len(argv) == 0 || argv[0] != flatcarInstall {
					continue
				}
				for i := 1; i+1 < len(argv); i++ {
					switch argv[i] {
					case "-d":
						in.Disk = argv[i+1]
					case "-i":
						in.Config = files[argv[i+1]]
					}
				}
			}
		}
	}
	if in.Disk == "" || in.Config == nil {
		return Installed{}, fmt.Errorf("the config installs nothing")
	}
	return in, nil
}
