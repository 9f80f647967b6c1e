package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/serve"
)

func serveCmd() *Command {
	return &Command{
		Name: "serve", Summary: "serve each host its own config over HTTPS, with a per-host token",
		Usage: "--hosts FILE [--out DIR] [--pki DIR] [--listen ADDR] [--once]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			out := fs.StringP("out", "o", "out", "folder kign gen wrote the configs to")
			pkiDir := fs.String("pki", "", "PKI bundle folder (default: pki/ beside the inventory)")
			listen := fs.String("listen", "", "address to listen on (default: all addresses, the port of delivery.url or 8443)")
			once := fs.Bool("once", false, "serve each host's config a single time (until kign serve restarts)")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				inv, p, err := loadPlan(*hosts, env.Stderr)
				if err != nil {
					return err
				}
				if *pkiDir == "" {
					*pkiDir = filepath.Join(filepath.Dir(*hosts), "pki")
				}
				if *listen == "" {
					*listen = defaultListen(inv.Delivery.URL)
				}
				sec, err := loadDeliverySecrets(*pkiDir)
				if err != nil {
					return err
				}
				warnCertificateName(env, sec.ServingCertPEM, inv.Delivery.URL)
				hs, err := serveHosts(inv, p, *out, sec.TokenSecret)
				if err != nil {
					return err
				}
				for _, h := range hs {
					if h.MAC == "" {
						fmt.Fprintf(env.Stderr, "warning: host %s has no mac in the inventory: /ipxe?mac= cannot find it\n", h.Name)
					}
				}
				srv, err := serve.New(serve.Config{
					Listen: *listen, CertPEM: sec.ServingCertPEM, KeyPEM: sec.ServingKeyPEM,
					Hosts: hs, Once: *once,
					Logger: slog.New(slog.NewJSONHandler(env.Stderr, nil)),
				})
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
				defer stop()
				return srv.Run(ctx)
			}
		},
	}
}

// deliverySecrets is what `kign serve` needs from the PKI bundle.
type deliverySecrets struct {
	// CAPEM is the cluster CA, which signed the serving certificate.
	CAPEM []byte
	// ServingCertPEM and ServingKeyPEM: a server certificate signed by the
	// CA whose SANs name the host of delivery.url.
	ServingCertPEM, ServingKeyPEM []byte
	// TokenSecret is the per-cluster secret the host tokens derive from
	// (delivery.HostToken).
	TokenSecret []byte
}

// loadDeliverySecrets reads the CA, kign serve's certificate and the token
// secret from the bundle in dir; kign gen makes the last two when the
// inventory sets delivery.url.
func loadDeliverySecrets(dir string) (deliverySecrets, error) {
	b, err := pki.Load(dir)
	if err != nil {
		return deliverySecrets{}, err
	}
	ca, ok := b.Get(pki.CA, "")
	if !ok {
		return deliverySecrets{}, fmt.Errorf("%s: no cluster CA: run kign gen first", dir)
	}
	serving, ok := b.Get(pki.DeliveryServing, "")
	secret := b.DeliveryTokenSecret()
	if !ok || len(secret) == 0 {
		return deliverySecrets{}, fmt.Errorf("%s: no delivery certificate or token secret: set delivery.url in the inventory and run kign gen", dir)
	}
	return deliverySecrets{CAPEM: ca.CertPEM, ServingCertPEM: serving.CertPEM, ServingKeyPEM: serving.KeyPEM, TokenSecret: secret}, nil
}

// serveHosts reads what gen wrote for every host of the plan: <host>.ign
// (required) and <host>.ipxe (rendered with the defaults when absent).
func serveHosts(inv *inventory.Inventory, p *plan.Plan, out string, secret []byte) ([]serve.Host, error) {
	var img *images.Image
	var hs []serve.Host
	for _, h := range p.Hosts {
		ign, err := os.ReadFile(filepath.Join(out, h.Name+".ign"))
		if err != nil {
			return nil, fmt.Errorf("host %q: %w (run kign gen -o %s first)", h.Name, err, out)
		}
		script, err := os.ReadFile(filepath.Join(out, delivery.IPXEName(h.Name)))
		if errors.Is(err, fs.ErrNotExist) {
			if img == nil {
				i, err := images.Lookup(p.OS.Name, inv.Images.Stream, inv.Images.Version, inv.Artifacts.Arch, inv.Images.Mirror)
				if err != nil {
					return nil, err
				}
				img = &i
			}
			script, err = delivery.IPXEScript(p, h, *img, delivery.IPXEConfig{}), nil
		}
		if err != nil {
			return nil, fmt.Errorf("host %q: %w", h.Name, err)
		}
		hs = append(hs, serve.Host{
			Name: h.Name, MAC: h.MAC, Token: delivery.HostToken(secret, h.Name),
			Ignition: ign, IPXE: script,
		})
	}
	return hs, nil
}

// defaultListen listens on every address, on delivery.url's port.
func defaultListen(deliveryURL string) string {
	if u, err := url.Parse(deliveryURL); err == nil && u.Port() != "" {
		return ":" + u.Port()
	}
	return ":8443"
}

// warnCertificateName warns when Ignition would refuse the serving
// certificate for delivery.url's host.
func warnCertificateName(env Env, certPEM []byte, deliveryURL string) {
	u, err := url.Parse(deliveryURL)
	if err != nil || u.Hostname() == "" {
		fmt.Fprintln(env.Stderr, "warning: the inventory has no delivery.url: pointer configs cannot name this server")
		return
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	if err := cert.VerifyHostname(host); err != nil {
		fmt.Fprintf(env.Stderr, "warning: the serving certificate does not name %s (delivery.url): Ignition will refuse it: %v\n", u.Hostname(), err)
	}
}
