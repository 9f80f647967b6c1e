package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/pki"
)

// defaultWithin is the expiry threshold of certs check and certs renew (kubeadm's
// certificate expiry warning is 30 days too).
const defaultWithin = 30 * 24 * time.Hour

func certsCmd() *Command {
	return &Command{
		Name: "certs", Summary: "check, renew and adopt the cluster's certificates",
		Sub: []*Command{certsCheckCmd(), certsRenewCmd(), certsAdoptCmd()},
	}
}

// pkiFlags declares --pki and --hosts; dir resolves the bundle folder: --pki,
// or pki/ beside the --hosts file.
func pkiFlags(fs *pflag.FlagSet, hostsUsage string) (dir func() (string, error), hosts *string) {
	pkiDir := fs.String("pki", "", "PKI bundle folder (default: pki/ beside the --hosts file)")
	hosts = fs.String("hosts", "", hostsUsage)
	return func() (string, error) {
		switch {
		case *pkiDir != "":
			return *pkiDir, nil
		case *hosts != "":
			return filepath.Join(filepath.Dir(*hosts), "pki"), nil
		}
		return "", UsageErrorf("--pki DIR or --hosts FILE is required")
	}, hosts
}

// nowFlag is the hidden --now that pins the clock (for tests and dry runs).
func nowFlag(fs *pflag.FlagSet) func() (time.Time, error) {
	now := fs.String("now", "", "pretend the time is this RFC 3339 instant")
	_ = fs.MarkHidden("now")
	return func() (time.Time, error) {
		if *now == "" {
			return time.Now(), nil
		}
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			return time.Time{}, UsageErrorf("--now: %v", err)
		}
		return t, nil
	}
}

func certsCheckCmd() *Command {
	return &Command{
		Name: "check", Summary: "list every certificate with its expiry; fail when one expires soon",
		Usage: "--pki DIR [--within 720h]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			dir, _ := pkiFlags(fs, "inventory file (hosts.yaml), to find the bundle beside it")
			within := fs.Duration("within", defaultWithin, "fail when a certificate expires within this time")
			now := nowFlag(fs)
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				d, err := dir()
				if err != nil {
					return err
				}
				t, err := now()
				if err != nil {
					return err
				}
				b, err := pki.Load(d)
				if err != nil {
					return err
				}
				st := b.Check(t, *within)
				if len(st) == 0 {
					return fmt.Errorf("%s: no certificates (kign gen or kign certs renew creates them)", d)
				}
				if err := writeCheck(env.Stdout, st); err != nil {
					return err
				}
				var bad []pki.Status
				for _, s := range st {
					if s.Bad() {
						bad = append(bad, s)
					}
				}
				if len(bad) == 0 {
					return nil
				}
				fmt.Fprintf(env.Stderr, "%s: %d of %d need attention (threshold %s):\n", d, len(bad), len(st), hours(*within))
				for _, s := range bad {
					fmt.Fprintf(env.Stderr, "  %s: %s\n", rowName(s.Spec, s.Host), s.Problem)
				}
				fmt.Fprintf(env.Stderr, "Renew the certificates with: kign certs renew --hosts FILE --pki %s --within %s\n", d, hours(*within))
				return errReported
			}
		},
	}
}

// writeCheck prints the check table. It never prints key material.
func writeCheck(w io.Writer, st []pki.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tHOST\tSUBJECT\tSANS\tNOT AFTER\tDAYS\tSTATUS")
	for _, s := range st {
		host, subject, sans, notAfter, days := dash(s.Host), dash(s.Subject), dash(strings.Join(s.SANs, ",")), "-", "-"
		if !s.NotAfter.IsZero() {
			notAfter = s.NotAfter.UTC().Format(time.RFC3339)
			days = fmt.Sprint(int(math.Floor(s.Left.Hours() / 24)))
		} else if s.Kind == pki.KindKeyPair {
			subject, notAfter = "(key pair)", "never"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Spec, host, subject, sans, notAfter, days, s.State)
	}
	return tw.Flush()
}

// hours formats a threshold the way --within takes it: 720h, not 720h0m0s.
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func rowName(spec, host string) string {
	if host == "" {
		return spec
	}
	return spec + " for " + host
}

func certsRenewCmd() *Command {
	return &Command{
		Name: "renew", Summary: "re-issue certificates before they expire (never a CA)",
		Usage: "--hosts FILE [--pki DIR] [--within 720h | --all] [--force-reissue]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			dir, hosts := pkiFlags(fs, "inventory file (hosts.yaml)")
			within := fs.Duration("within", defaultWithin, "re-issue the certificates that expire within this time")
			all := fs.Bool("all", false, "re-issue every certificate, whatever its expiry")
			force := fs.Bool("force-reissue", false, "re-issue certificates their CA's current certificate did not sign (after a CA was replaced)")
			now := nowFlag(fs)
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if *hosts == "" {
					return UsageErrorf("--hosts is required: renewal re-issues certificates for the hosts of the inventory")
				}
				if *all && fs.Changed("within") {
					return UsageErrorf("--all and --within exclude each other")
				}
				d, err := dir()
				if err != nil {
					return err
				}
				t, err := now()
				if err != nil {
					return err
				}
				_, p, err := loadPlan(*hosts, env.Stderr)
				if err != nil {
					return err
				}
				b, err := pki.Load(d)
				if err != nil {
					return err
				}
				events, err := b.Complete(p, pki.Options{Now: t, RenewWithin: *within, RenewAll: *all, ForceReissue: *force})
				if err != nil {
					return err
				}
				if err := saveAndReport(env, b, d, events); err != nil {
					return err
				}
				return nil
			}
		},
	}
}

func certsAdoptCmd() *Command {
	return &Command{
		Name: "adopt", Summary: "make an existing CA (e.g. the seed guide's ca.pem) the cluster's CA",
		Usage: "--pki DIR --ca kubernetes|etcd|front-proxy[,...] --cert ca.pem --key ca-key.pem [--force]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			dir, _ := pkiFlags(fs, "inventory file (hosts.yaml), to find the bundle beside it")
			cas := fs.StringSlice("ca", nil, "which CA to replace: kubernetes, etcd or front-proxy (repeat or comma-separate to adopt one pair for several)")
			certFile := fs.String("cert", "", "CA certificate (PEM)")
			keyFile := fs.String("key", "", "CA private key (PEM)")
			force := fs.Bool("force", false, "replace a different CA the bundle already holds (the old files are kept as *.replaced-<time>)")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				if len(*cas) == 0 || *certFile == "" || *keyFile == "" {
					return UsageErrorf("--ca, --cert and --key are required")
				}
				for _, c := range *cas {
					if _, ok := pki.CAByAlias(c); !ok {
						return UsageErrorf("--ca %q: want kubernetes, etcd or front-proxy", c)
					}
				}
				d, err := dir()
				if err != nil {
					return err
				}
				certPEM, err := os.ReadFile(*certFile)
				if err != nil {
					return err
				}
				keyPEM, err := os.ReadFile(*keyFile)
				if err != nil {
					return err
				}
				b, err := pki.Load(d)
				if err != nil {
					return err
				}
				var events []pki.Event
				replaced := false
				for _, c := range *cas {
					spec, _ := pki.CAByAlias(c)
					_, had := b.Get(spec.Name, "")
					ev, err := b.Adopt(c, certPEM, keyPEM, *force)
					if err != nil {
						return fmt.Errorf("%s: %w", *certFile, err)
					}
					replaced = replaced || had && ev.Action == pki.ActionAdopted
					events = append(events, ev)
				}
				if err := saveAndReport(env, b, d, events); err != nil {
					return err
				}
				if replaced {
					fmt.Fprintf(env.Stderr, "Certificates the previous CA signed no longer verify; re-issue them with: kign certs renew --hosts FILE --pki %s --force-reissue\n", d)
				}
				return nil
			}
		},
	}
}

// saveAndReport saves the bundle, then (only once it is on disk) prints
// what was done, one tagged line per event.
func saveAndReport(env Env, b *pki.Bundle, dir string, events []pki.Event) error {
	written, err := b.Save(dir)
	if err != nil {
		return err
	}
	for _, e := range events {
		fmt.Fprintln(env.Stdout, e)
	}
	fmt.Fprintf(env.Stdout, "[pki] wrote %d file%s to %s\n", len(written), plural(len(written)), dir)
	return nil
}
