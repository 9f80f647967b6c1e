package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kign-project/kign/internal/gen"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

func genCmd() *Command {
	return &Command{
		Name: "gen", Summary: "write one Ignition config per host, and admin.kubeconfig",
		Usage: "--hosts FILE [-o DIR] [--pki DIR] [--emit-butane] [--format ignition|matchbox --matchbox-url URL]",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			hosts := fs.String("hosts", "", "inventory file (hosts.yaml)")
			out := fs.StringP("out", "o", "out", "output folder")
			pkiDir := fs.String("pki", "", "PKI bundle folder, created if missing (default: pki/ beside the inventory)")
			emit := fs.Bool("emit-butane", false, "also write <host>.bu, the Butane document each config was translated from")
			format := fs.String("format", gen.FormatIgnition, "ignition: <host>.ign with .ipxe, -ignition.img and .pointer.ign; matchbox: matchbox's profiles/groups/ignition layout")
			matchboxURL := fs.String("matchbox-url", "", "matchbox's HTTP endpoint as hosts reach it (with --format matchbox)")
			now := fs.String("now", "", "issue certificates as of this RFC 3339 time (for reproducible tests)")
			_ = fs.MarkHidden("now")
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				switch {
				case *format != gen.FormatIgnition && *format != gen.FormatMatchbox:
					return UsageErrorf("--format must be %s or %s", gen.FormatIgnition, gen.FormatMatchbox)
				case *format == gen.FormatMatchbox && *matchboxURL == "":
					return UsageErrorf("--format matchbox needs --matchbox-url")
				case *format != gen.FormatMatchbox && *matchboxURL != "":
					return UsageErrorf("--matchbox-url goes with --format matchbox")
				}
				clock, err := parseNow(*now)
				if err != nil {
					return err
				}
				if *pkiDir == "" && *hosts != "" {
					*pkiDir = filepath.Join(filepath.Dir(*hosts), "pki")
				}
				r, err := generate(env, *hosts, *pkiDir, clock, gen.Options{EmitButane: *emit, Format: *format, MatchboxURL: *matchboxURL}, false)
				if err != nil {
					return err
				}
				p, bundle, events, res := r.plan, r.bundle, r.events, r.result
				// Keys first: an output that references certificates the bundle
				// does not hold would break the next run.
				if _, err := bundle.Save(*pkiDir); err != nil {
					return fmt.Errorf("saving the PKI bundle: %w", err)
				}
				// Said only now that it is on disk.
				for _, e := range events {
					fmt.Fprintln(env.Stdout, e.String())
				}
				changes := configChanges(*out, *format, res)
				written, err := output.Write(*out, res.Files)
				if err != nil {
					return err
				}
				if err := writeState(*pkiDir, p); err != nil {
					return fmt.Errorf("recording the generated version: %w", err)
				}
				// Each warning says "WARNING:" itself.
				for _, w := range res.Warnings {
					fmt.Fprintln(env.Stderr, w)
				}
				// Leaves live a year (pki.certValidity) and are renewed only
				// when asked: say it a month ahead, as certs check would.
				for _, st := range bundle.Check(clock, defaultWithin) {
					if st.State != pki.StateExpiring {
						continue
					}
					what := st.Spec
					if st.Host != "" {
						what += " for " + st.Host
					}
					fmt.Fprintf(env.Stderr, "warning: %s expires on %s, within %s: renew it with kign certs renew --hosts %s, then kign gen, then reprovision the masters one at a time (README \"PKI\")\n",
						what, st.NotAfter.UTC().Format(time.DateOnly), hours(defaultWithin), *hosts)
				}
				for _, f := range unverified(p) {
					fmt.Fprintf(env.Stderr, "warning: %s is downloaded WITHOUT a hash (artifacts.allowUnverified): record one with kign artifacts lock --hosts %s, or pin it with artifacts.overrides.%s.sha256\n", f, *hosts, f)
				}
				for _, w := range written {
					fmt.Fprintf(env.Stdout, "[out] wrote %s\n", w)
				}
				if len(written) < len(res.Files) {
					fmt.Fprintf(env.Stdout, "[out] %d file(s) unchanged in %s\n", len(res.Files)-len(written), *out)
				}
				for _, l := range changes.lines() {
					fmt.Fprintln(env.Stdout, l)
				}
				return nil
			}
		},
	}
}

// genRun is one generation, in memory.
type genRun struct {
	plan   *plan.Plan
	bundle *pki.Bundle
	events []pki.Event
	result *gen.Result
}

// generate is every step of `kign gen` short of writing: the inventory and
// its lock file, the overlays (each strictly on its own), the PKI bundle
// completed in memory, and every host's config rendered, merged (overlay
// conflicts), translated and validated. `kign validate` runs it too, with
// dry set, so that it refuses exactly what gen refuses, with the same
// messages: a dry run never saves the bundle, and when the bundle lacks
// keys it issues the missing ones as ECDSA (milliseconds; RSA takes
// seconds), in memory only, to be thrown away.
func generate(env Env, hosts, pkiDir string, clock time.Time, o gen.Options, dry bool) (*genRun, error) {
	inv, p, err := loadPlan(hosts, env.Stderr)
	if err != nil {
		return nil, err
	}
	if err := checkSkew(inv, p, pkiDir); err != nil {
		return nil, err
	}
	if o.Overlays, err = readOverlays(p); err != nil {
		return nil, err
	}
	if o.Addons, err = readAddons(p); err != nil {
		return nil, err
	}
	bundle, err := pki.Load(pkiDir)
	if err != nil {
		return nil, err
	}
	cp := p
	if _, hasCA := bundle.Get(pki.CA, ""); dry && !hasCA {
		c := *p
		c.PKI.KeyAlgorithm = "ecdsa"
		cp = &c
	}
	events, err := bundle.Complete(cp, pki.Options{Now: clock})
	if err != nil {
		return nil, err
	}
	res, err := gen.Generate(p, bundle, o)
	if err != nil {
		return nil, err
	}
	return &genRun{plan: p, bundle: bundle, events: events, result: res}, nil
}

// readOverlays reads and checks every overlay the plan names. Each is
// translated on its own first, so its errors carry its own line numbers.
func readOverlays(p *plan.Plan) (map[string][]byte, error) {
	out := map[string][]byte{}
	names := append([]string(nil), p.Overlays...)
	for _, h := range p.Hosts {
		names = append(names, h.Overlays...)
	}
	for _, name := range names {
		if _, ok := out[name]; ok {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("overlay: %w", err)
		}
		if err := gen.CheckOverlay(name, data); err != nil {
			return nil, fmt.Errorf("overlay %w", err)
		}
		out[name] = data
	}
	return out, nil
}

// readAddons reads and parses every add-on the plan names.
func readAddons(p *plan.Plan) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range p.Addons {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("add-on: %w", err)
		}
		if _, err := render.ParseAddon(name, data); err != nil {
			return nil, fmt.Errorf("add-on %w", err)
		}
		out[name] = data
	}
	return out, nil
}

func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, UsageErrorf("--now: %v", err)
	}
	return t.UTC(), nil
}

// hostChanges says which hosts' configs a run changes: the masters that
// must be reprovisioned to pick the change up, and the new ones.
type hostChanges struct{ changed, added []string }

// configChanges compares each host's new config with the one in out
// (the Ignition format's <host>.ign) before it is overwritten.
func configChanges(out, format string, res *gen.Result) hostChanges {
	var c hostChanges
	if format != gen.FormatIgnition {
		return c
	}
	for _, hc := range res.Hosts {
		old, err := os.ReadFile(filepath.Join(out, hc.Host.Name+".ign"))
		switch {
		case os.IsNotExist(err):
			c.added = append(c.added, hc.Host.Name)
		case err == nil && string(old) != string(hc.Ignition):
			c.changed = append(c.changed, hc.Host.Name)
		}
	}
	return c
}

// lines are the operator's next steps. A first run (every host new) needs
// none. Masters already running take a changed config only by being
// reprovisioned (Ignition runs once); new masters boot after them, so
// that every keepalived already lists them as a peer (a keepalived that
// hears no peer takes the VIP) and they join etcd by themselves.
func (c hostChanges) lines() []string {
	if len(c.changed) == 0 {
		return nil
	}
	var out []string
	for _, h := range c.changed {
		out = append(out, fmt.Sprintf("[reprovision] %s: its config changed; reprovision it to apply the change (README \"Day 2\")", h))
	}
	out = append(out, fmt.Sprintf("[reprovision] one master at a time, in this order: %s; before the next, check that etcd has every member healthy and the API answers through the VIP", strings.Join(c.changed, ", ")))
	if len(c.added) > 0 {
		out = append(out, fmt.Sprintf("[reprovision] then boot the new master(s) %s: each joins the running etcd cluster by itself", strings.Join(c.added, ", ")))
	}
	return out
}
