package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/diag"
	"github.com/kign-project/kign/internal/gen"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/plan"
)

// loadPlan loads and validates the inventory, prints every diagnostic to
// stderr and derives the plan. On invalid input it returns errReported.
func loadPlan(path string, stderr io.Writer) (*inventory.Inventory, *plan.Plan, error) {
	if path == "" {
		return nil, nil, UsageErrorf("--hosts is required")
	}
	inv, report := inventory.Load(path)
	if err := refuse(path, report, stderr); err != nil {
		return nil, nil, err
	}
	p, err := plan.Build(inv)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return inv, p, nil
}

// refuse prints every diagnostic of the inventory at path and, when there
// are errors, says nothing was written and returns errReported.
func refuse(path string, r diag.Report, stderr io.Writer) error {
	printReport(stderr, r)
	if !r.HasErrors() {
		return nil
	}
	n := len(r.Errors())
	fmt.Fprintf(stderr, "%s: %d error%s, nothing written\n", path, n, plural(n))
	return errReported
}

func printReport(w io.Writer, r diag.Report) {
	for _, d := range r.Diagnostics {
		fmt.Fprintln(w, d.String())
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func validateCmd() *Command {
	return &Command{
		Name: "validate", Summary: "run every check of kign gen without writing anything, and print the derived plan",
		Usage: "--hosts FILE [--pki DIR]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			quiet := fs.BoolP("quiet", "q", false, "print nothing when the inventory is valid")
			pkiDir := fs.String("pki", "", "PKI bundle folder gen would use, read and never written (default: pki/ beside the inventory)")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *pkiDir == "" && *hosts != "" {
					*pkiDir = filepath.Join(filepath.Dir(*hosts), "pki")
				}
				r, err := generate(env, *hosts, *pkiDir, time.Now().UTC().Truncate(time.Second), gen.Options{}, true)
				if err != nil {
					return err
				}
				p := r.plan
				if p.Boot == inventory.BootLive {
					fmt.Fprintln(env.Stderr, delivery.LiveBootWarning)
				}
				if !*quiet {
					writeSummary(env.Stdout, p)
				}
				return nil
			}
		},
	}
}

// writeSummary prints the derived plan an operator checks before generating.
func writeSummary(w io.Writer, p *plan.Plan) {
	fmt.Fprintf(w, "cluster %s: %s, Kubernetes %s, %d control-plane hosts\n", p.ClusterName, p.OS.Name, p.KubernetesVersion, len(p.Hosts))
	fmt.Fprintf(w, "  API endpoint (VIP):     %s\n", p.APIServerEndpoint())
	fmt.Fprintf(w, "  service CIDR:           %s (apiserver service IP %s, DNS %s)\n", p.ServiceCIDR, p.APIServerServiceIP, p.DNSServiceIP)
	fmt.Fprintf(w, "  pod CIDR:               %s (a /%d per node, maxPods %d)\n", p.PodCIDR, p.NodeCIDRMaskSize, p.MaxPods)
	fmt.Fprintf(w, "  domain:                 %s\n", p.Domain)
	fmt.Fprintf(w, "  keepalived:             virtual_router_id %d, unicast VRRP\n", p.Keepalived.VirtualRouterID)
	fmt.Fprintf(w, "  etcd initial cluster:   %s\n", p.EtcdInitialCluster)
	paths := "PXE boots"
	if p.OS.ISOEmbed {
		paths = "PXE and ISO boots"
	}
	boot := paths + " install " + p.OS.Title + " " + p.Image.Version + " to disk, then reboot into it"
	if p.Boot == inventory.BootLive {
		boot = paths + " run from RAM (delivery.boot: live)"
	}
	fmt.Fprintf(w, "  boot:                   %s\n", boot)
	if p.DeliveryURL != "" {
		fmt.Fprintf(w, "  pointer configs:        kign serve at %s; QEMU/libvirt: -fw_cfg name=%s,file=<host>.pointer.ign\n", p.DeliveryURL, p.OS.FwCfgName)
	}
	fmt.Fprintf(w, "  hosts:\n")
	for _, h := range p.Hosts {
		extra := ""
		if h.MAC != "" {
			extra = ", mac " + h.MAC
		}
		fmt.Fprintf(w, "    %-16s %-15s %s, keepalived priority %d%s\n", h.Name, h.IP, h.Interface, h.KeepalivedPriority, extra)
		addr := "DHCP (reserve " + h.IP.String() + " for its MAC: every certificate names it)"
		if n := h.Network; n != nil {
			addr = "static " + n.Address.String()
			if n.Gateway.IsValid() {
				addr += " via " + n.Gateway.String()
			}
		}
		boot := "installs to " + h.InstallDisk
		if p.Boot == inventory.BootLive {
			boot = "boots live (RAM only)"
		}
		updates := "OS update reboots " + h.UpdateWindow.String()
		if p.Updates == inventory.UpdatesOff {
			updates = "no automatic OS update reboots"
		}
		fmt.Fprintf(w, "    %-16s %s; %s; %s\n", "", boot, addr, updates)
	}
	if n := unverified(p); len(n) > 0 {
		fmt.Fprintf(w, "  downloads without a hash (allowed by artifacts.allowUnverified): %s\n", strings.Join(n, ", "))
	}
}

func unverified(p *plan.Plan) []string {
	var out []string
	for _, f := range p.Artifacts.Files {
		if !f.Verified() {
			out = append(out, f.Name)
		}
	}
	return out
}
