package cli

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/output"
)

//go:embed templates/hosts.yaml.tmpl
var hostsTemplate string

var initTemplate = template.Must(template.New("hosts.yaml").Option("missingkey=error").Parse(hostsTemplate))

// initData is every value init's template places, computed before.
type initData struct {
	File, Lock                        string
	Name, OS, Interface, VIP, Mirror  string
	ServiceCIDR, PodCIDR, InstallDisk string
	Hosts                             []initHost
}

type initHost struct {
	Name, IP, MAC, Disk string
}

// Default networks, tried in order: the first that overlaps no host, the
// VIP and the other network is taken. kubeadm's defaults come first.
var (
	serviceCIDRs = []string{"10.96.0.0/12", "172.20.0.0/16", "10.112.0.0/16", "192.168.240.0/20"}
	podCIDRs     = []string{"10.244.0.0/16", "10.200.0.0/16", "172.24.0.0/14", "192.168.0.0/17"}
)

func initCmd() *Command {
	return &Command{
		Name: "init", Summary: "write a commented hosts.yaml from flags (or questions, on a terminal)",
		Usage: "--name NAME --vip IP --host NAME=IP[,mac=MAC][,disk=DEV] ... [--os fcos|flatcar] [--interface IF] [--service-cidr CIDR] [--pod-cidr CIDR] [--install-disk DEV] [--mirror URL] [-o hosts.yaml] [--force]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			var d initData
			var hosts []string
			fs.StringVar(&d.Name, "name", "", "cluster name (a DNS-1123 label)")
			fs.StringVar(&d.VIP, "vip", "", "the API server's virtual IP (an unused address in the hosts' subnet)")
			fs.StringArrayVar(&hosts, "host", nil, "a master: NAME=IP[,mac=MAC][,disk=DEVICE]; repeat for each")
			fs.StringVar(&d.OS, "os", osvariant.Default, "OS: "+strings.Join(osvariant.Names(), " or "))
			fs.StringVar(&d.Interface, "interface", "eth0", "the hosts' network interface")
			fs.StringVar(&d.ServiceCIDR, "service-cidr", "", "service network (default: the first of "+strings.Join(serviceCIDRs, ", ")+" that collides with nothing)")
			fs.StringVar(&d.PodCIDR, "pod-cidr", "", "pod network (default: the first of "+strings.Join(podCIDRs, ", ")+" that collides with nothing)")
			fs.StringVar(&d.InstallDisk, "install-disk", inventory.DefaultInstallDisk, "the disk PXE and ISO boots install to")
			fs.StringVar(&d.Mirror, "mirror", "", "artifacts.mirror: where hosts download from (air-gapped sites)")
			out := fs.StringP("output", "o", "", "file to write (default: standard output)")
			force := fs.Bool("force", false, "replace an existing -o file")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *out != "" && !*force {
					if _, err := os.Stat(*out); err == nil {
						return fmt.Errorf("%s exists; use --force to replace it", *out)
					}
				}
				if env.Interactive && (d.Name == "" || d.VIP == "" || len(hosts) == 0) {
					if err := askInit(env, &d, &hosts); err != nil {
						return err
					}
				}
				switch {
				case d.Name == "":
					return UsageErrorf("--name is required")
				case d.VIP == "":
					return UsageErrorf("--vip is required")
				case len(hosts) == 0:
					return UsageErrorf("--host NAME=IP is required, once per master")
				}
				for _, h := range hosts {
					ih, err := parseInitHost(h)
					if err != nil {
						return UsageErrorf("--host %q: %v", h, err)
					}
					d.Hosts = append(d.Hosts, ih)
				}
				if err := pickNetworks(&d); err != nil {
					return err
				}
				d.File = "hosts.yaml"
				if *out != "" {
					d.File = *out
				}
				d.Lock = filepath.Base(inventory.LockPath(d.File))
				var b bytes.Buffer
				if err := initTemplate.Execute(&b, d); err != nil {
					return err
				}
				// What init writes must load: a mistake in a flag shows here,
				// with the field it went to, before anything is written. Only
				// the hashes `kign artifacts lock` records may be missing.
				name := "(kign init)"
				if *out != "" {
					name = *out
				}
				_, rep := inventory.ParseForLock(name, b.Bytes())
				if errs := rep.Errors(); len(errs) > 0 {
					for _, e := range errs {
						fmt.Fprintln(env.Stderr, e.String())
					}
					fmt.Fprintf(env.Stderr, "%d error%s in the values given, nothing written\n", len(errs), plural(len(errs)))
					return errReported
				}
				if *out == "" {
					_, err := env.Stdout.Write(b.Bytes())
					return err
				}
				if _, err := output.WriteFileAtomic(*out, b.Bytes(), 0o644); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "[init] wrote %s; next: kign artifacts lock --hosts %s\n", *out, *out)
				return nil
			}
		},
	}
}

// parseInitHost reads NAME=IP[,mac=MAC][,disk=DEVICE].
func parseInitHost(s string) (initHost, error) {
	parts := strings.Split(s, ",")
	name, ip, ok := strings.Cut(parts[0], "=")
	if !ok || name == "" || ip == "" {
		return initHost{}, fmt.Errorf("want NAME=IP[,mac=MAC][,disk=DEVICE]")
	}
	h := initHost{Name: name, IP: ip}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "mac":
			h.MAC = v
		case "disk":
			h.Disk = v
		default:
			return initHost{}, fmt.Errorf("unknown %q (want mac= or disk=)", k)
		}
	}
	return h, nil
}

// pickNetworks fills in the service and pod networks not given: the first
// candidate that overlaps no host address, the VIP or the other network.
func pickNetworks(d *initData) error {
	var addrs []netip.Addr
	for _, s := range append([]string{d.VIP}, hostIPs(d)...) {
		if a, err := netip.ParseAddr(s); err == nil {
			addrs = append(addrs, a)
		}
	}
	free := func(c string, other string) bool {
		p := netip.MustParsePrefix(c)
		for _, a := range addrs {
			if p.Contains(a) {
				return false
			}
		}
		o, err := netip.ParsePrefix(other)
		return err != nil || !o.Overlaps(p)
	}
	pick := func(given *string, candidates []string, other, what string) error {
		if *given != "" {
			return nil
		}
		for _, c := range candidates {
			if free(c, other) {
				*given = c
				return nil
			}
		}
		return UsageErrorf("every default %s (%s) collides with a host or the VIP: set --%s", what, strings.Join(candidates, ", "), what)
	}
	if err := pick(&d.ServiceCIDR, serviceCIDRs, d.PodCIDR, "service-cidr"); err != nil {
		return err
	}
	return pick(&d.PodCIDR, podCIDRs, d.ServiceCIDR, "pod-cidr")
}

func hostIPs(d *initData) []string {
	var out []string
	for _, h := range d.Hosts {
		out = append(out, h.IP)
	}
	return out
}

// askInit asks on the terminal for what the flags did not give.
func askInit(env Env, d *initData, hosts *[]string) error {
	in := bufio.NewScanner(env.Stdin)
	ask := func(q string, into *string) error {
		for *into == "" {
			fmt.Fprintf(env.Stderr, "%s: ", q)
			if !in.Scan() {
				return io.ErrUnexpectedEOF
			}
			*into = strings.TrimSpace(in.Text())
		}
		return nil
	}
	if err := ask("Cluster name", &d.Name); err != nil {
		return err
	}
	if err := ask("API server virtual IP", &d.VIP); err != nil {
		return err
	}
	for {
		fmt.Fprint(env.Stderr, "Master NAME=IP[,mac=MAC] (an empty line when done): ")
		if !in.Scan() {
			break
		}
		h := strings.TrimSpace(in.Text())
		if h == "" {
			if len(*hosts) > 0 {
				break
			}
			continue
		}
		*hosts = append(*hosts, h)
	}
	return nil
}
