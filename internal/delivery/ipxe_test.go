package delivery

import (
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/osvariant"
)

func TestIPXEScript(t *testing.T) {
	fcos := testImage(t, "fcos")
	flatcar := testImage(t, "flatcar")
	tests := []struct {
		name string
		os   string
		cfg  IPXEConfig
		want string
	}{
		{
			name: "fcos appended initrd",
			os:   "fcos",
			want: `#!ipxe
# kign: cluster seed, host master1: fcos stable 42.20250901.3.0 (amd64). No secret in this script.
kernel ` + fcos.Kernel.URL + ` initrd=main initrd=ignition coreos.live.rootfs_url=` + fcos.Rootfs.URL + ` ignition.firstboot ignition.platform.id=metal
initrd --name main ` + fcos.Initramfs.URL + `
initrd --name ignition master1-ignition.img
boot
`,
		},
		{
			name: "fcos in a qemu VM with console and image URL",
			os:   "fcos",
			cfg:  IPXEConfig{IgnitionImgURL: "tftp://10.0.0.1/kign/master1-ignition.img", PlatformID: "qemu", ExtraArgs: []string{"console=ttyS0,115200n8"}},
			want: `#!ipxe
# kign: cluster seed, host master1: fcos stable 42.20250901.3.0 (amd64). No secret in this script.
kernel ` + fcos.Kernel.URL + ` initrd=main initrd=ignition coreos.live.rootfs_url=` + fcos.Rootfs.URL + ` ignition.firstboot ignition.platform.id=qemu console=ttyS0,115200n8
initrd --name main ` + fcos.Initramfs.URL + `
initrd --name ignition tftp://10.0.0.1/kign/master1-ignition.img
boot
`,
		},
		{
			name: "flatcar appended initrd",
			os:   "flatcar",
			want: `#!ipxe
# kign: cluster seed, host master1: flatcar stable 4593.2.2 (amd64). No secret in this script.
kernel ` + flatcar.Kernel.URL + ` initrd=main initrd=ignition flatcar.first_boot=1
initrd --name main ` + flatcar.Initramfs.URL + `
initrd --name ignition master1-ignition.img
boot
`,
		},
		{
			name: "flatcar config URL",
			os:   "flatcar",
			cfg:  IPXEConfig{ConfigURL: "http://10.0.0.1/flatcar.ign"},
			want: `#!ipxe
# kign: cluster seed, host master1: flatcar stable 4593.2.2 (amd64). No secret in this script.
kernel ` + flatcar.Kernel.URL + ` initrd=main flatcar.first_boot=1 ignition.config.url=http://10.0.0.1/flatcar.ign
initrd --name main ` + flatcar.Initramfs.URL + `
boot
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPlan(tc.os)
			got := string(IPXEScript(p, p.Hosts[1], testImage(t, tc.os), tc.cfg))
			if got != tc.want {
				t.Errorf("script:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// Rule: the per-variant arguments Ignition needs are always there, and the
// other variant's are never.
func TestKernelArgsPerVariant(t *testing.T) {
	tests := []struct {
		os            string
		must, mustNot []string
	}{
		{"fcos", []string{"ignition.firstboot", "ignition.platform.id=metal", "coreos.live.rootfs_url=https://"},
			[]string{"flatcar.first_boot", "flatcar.config.url", "coreos.inst"}},
		{"flatcar", []string{"flatcar.first_boot=1"},
			[]string{"ignition.firstboot", "coreos.live.rootfs_url", "ignition.platform.id"}},
	}
	for _, tc := range tests {
		for _, cfg := range []IPXEConfig{{}, {ConfigURL: "https://x/c.ign"}} {
			t.Run(tc.os+" "+cfg.ConfigURL, func(t *testing.T) {
				args := " " + strings.Join(KernelArgs(osvariant.MustLookup(tc.os), testImage(t, tc.os), cfg), " ")
				for _, m := range tc.must {
					if !strings.Contains(args, " "+m) {
						t.Errorf("missing %q in%s", m, args)
					}
				}
				for _, m := range tc.mustNot {
					if strings.Contains(args, m) {
						t.Errorf("unexpected %q in%s", m, args)
					}
				}
				if (cfg.ConfigURL == "") != strings.Contains(args, "initrd=ignition") {
					t.Errorf("initrd=ignition must be there exactly without a config URL:%s", args)
				}
				if (cfg.ConfigURL != "") != strings.Contains(args, "ignition.config.url=") {
					t.Errorf("ignition.config.url must be there exactly with a config URL:%s", args)
				}
			})
		}
	}
}

func TestChainScript(t *testing.T) {
	if got := string(ChainScript()); got != "#!ipxe\nchain ipxe?mac=${mac:hexhyp}\n" {
		t.Fatalf("chain script %q", got)
	}
}
