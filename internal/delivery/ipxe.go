package delivery

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/plan"
)

// IPXEConfig says where a PXE-booted host gets its Ignition config.
//
// The default, and kign's recommendation, is the appended initrd: iPXE loads
// <host>-ignition.img (the full config wrapped by WrapIgnitionFor) next to the
// OS initramfs, and Ignition reads it from the initramfs without touching
// the network. The script itself then holds no secret and `kign serve` hands
// it to anyone by MAC. The image does hold the host's keys, so where iPXE
// fetches it from decides who else can read them:
//   - stock iPXE builds have no HTTPS (poseidon/typhoon#420): an http:// or
//     tftp:// location puts the keys on the wire in the clear, readable by
//     anyone who can reach it. Use that only on an isolated provisioning
//     network, or build iPXE with DOWNLOAD_PROTO_HTTPS and TRUST=<kign CA>;
//   - even over HTTPS iPXE cannot authenticate itself to the server, so a
//     PXE location is never per-host secret the way `kign serve` with a
//     token is. Prefer the ISO (`kign image iso`, over BMC virtual media)
//     or a pointer config in per-instance user-data where that matters.
//
// ConfigURL instead makes the script pass ignition.config.url=, for a
// config source the operator controls; Ignition sends no token from the
// kernel command line, so `kign serve` answers such a request with 403.
type IPXEConfig struct {
	// IgnitionImgURL is where iPXE fetches the host's <host>-ignition.img.
	// Empty: "<host>-ignition.img", which iPXE resolves relative to the URL
	// the script itself was loaded from.
	IgnitionImgURL string
	// ConfigURL, when set, replaces the appended initrd with
	// ignition.config.url=ConfigURL.
	ConfigURL string
	// PlatformID is FCOS's ignition.platform.id: metal (default) on bare
	// metal, or the hypervisor's ID (qemu, vmware, ...) in a VM.
	PlatformID string
	// ExtraArgs are appended to the kernel command line (console=ttyS0,115200n8 ...).
	ExtraArgs []string
}

// Initrd names that the kernel line refers to with initrd=NAME; UEFI iPXE
// passes only the initrds named there.
const (
	initrdMain     = "main"
	initrdIgnition = "ignition"
)

// IgnitionImgName is the file name of a host's wrapped config.
func IgnitionImgName(host string) string { return host + "-ignition.img" }

// IPXEName is the file name of a host's iPXE script.
func IPXEName(host string) string { return host + ".ipxe" }

// KernelArgs returns the kernel command line for booting img's live PXE
// image with the facts of OS o, in order, as iPXE and matchbox profiles use
// it:
//
//	initrd=main [initrd=ignition] [ROOTFS-ARG=URL] FIRST-BOOT-ARGS
//	[PLATFORM-ARG=ID] [ignition.config.url=URL] EXTRA
//
// fcos:    coreos.live.rootfs_url=URL ignition.firstboot ignition.platform.id=metal
// flatcar: flatcar.first_boot=1
//
// The rootfs is fetched by URL, the option that needs 2 GiB of RAM instead
// of 4.
func KernelArgs(o osvariant.OS, img images.Image, cfg IPXEConfig) []string {
	args := []string{"initrd=" + initrdMain}
	if cfg.ConfigURL == "" {
		args = append(args, "initrd="+initrdIgnition)
	}
	if o.RootfsArg != "" && img.Rootfs.URL != "" {
		args = append(args, o.RootfsArg+"="+img.Rootfs.URL)
	}
	args = append(args, o.FirstBootArgs...)
	if o.PlatformArg != "" {
		platform := cfg.PlatformID
		if platform == "" {
			platform = "metal"
		}
		args = append(args, o.PlatformArg+"="+platform)
	}
	if cfg.ConfigURL != "" {
		args = append(args, "ignition.config.url="+cfg.ConfigURL)
	}
	return append(args, cfg.ExtraArgs...)
}

// IPXEScript renders host h's iPXE script: the kernel of img with
// KernelArgs, the OS initramfs as initrd "main" and, unless cfg.ConfigURL
// is set, the host's wrapped config as initrd "ignition". The script names
// no secret; see IPXEConfig for what the wrapped config's location exposes.
// img must be the image of the plan's OS.
func IPXEScript(p *plan.Plan, h plan.Host, img images.Image, cfg IPXEConfig) []byte {
	var b bytes.Buffer
	b.WriteString("#!ipxe\n")
	fmt.Fprintf(&b, "# kign: cluster %s, host %s: %s %s %s (%s). No secret in this script.\n",
		oneLine(p.ClusterName), oneLine(h.Name), img.OS, img.Stream, img.Version, img.Arch)
	fmt.Fprintf(&b, "kernel %s %s\n", img.Kernel.URL, strings.Join(KernelArgs(p.OS, img, cfg), " "))
	fmt.Fprintf(&b, "initrd --name %s %s\n", initrdMain, img.Initramfs.URL)
	if cfg.ConfigURL == "" {
		src := cfg.IgnitionImgURL
		if src == "" {
			src = IgnitionImgName(h.Name)
		}
		fmt.Fprintf(&b, "initrd --name %s %s\n", initrdIgnition, src)
	}
	b.WriteString("boot\n")
	return b.Bytes()
}

// ChainScript is the static script a DHCP server points iPXE clients at:
// it asks `kign serve` (or matchbox) for the script of the booting MAC.
func ChainScript() []byte {
	return []byte("#!ipxe\nchain ipxe?mac=${mac:hexhyp}\n")
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
