// Package gen is `kign gen` without the disk: from a plan, a completed PKI
// bundle and the overlays' bytes it produces every output file of the run
// (one Ignition config per host, optionally its Butane source, and the
// operator's admin.kubeconfig). The caller writes them with package output.
package gen

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/kign-project/kign/butane"
	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

// Options select what Generate produces.
type Options struct {
	// EmitButane also writes <host>.bu, the merged Butane document that was translated.
	EmitButane bool
	// Overlays holds the content of every overlay path the plan names
	// (cluster-wide and per host), keyed by the path as in the plan.
	Overlays map[string][]byte
	// Addons holds the content of every add-on path the plan names, keyed
	// by the path as in the plan.
	Addons map[string][]byte
	// Format is FormatIgnition (default) or FormatMatchbox.
	Format string
	// MatchboxURL is matchbox's HTTP endpoint as hosts reach it (FormatMatchbox).
	MatchboxURL string
}

// HostConfig is one host's result.
type HostConfig struct {
	Host     plan.Host
	Butane   []byte // the merged Butane document
	Ignition []byte // the translated, validated Ignition config
	// Boot holds the host's delivery files (iPXE script, wrapped config,
	// pointer config), in FormatIgnition runs.
	Boot output.Set
}

// Result is everything one run produces.
type Result struct {
	Hosts []HostConfig // plan order
	Files output.Set
	// Warnings must be shown to the operator (matchbox's lack of
	// authentication, live boots); each starts with "WARNING:".
	Warnings []string
}

// Generate renders, merges, translates and validates every host's config,
// in parallel across cores; the result is the same whatever the scheduling.
func Generate(p *plan.Plan, b *pki.Bundle, o Options) (*Result, error) {
	for _, name := range append(append([]string(nil), p.Overlays...), hostOverlays(p)...) {
		if _, ok := o.Overlays[name]; !ok {
			return nil, fmt.Errorf("overlay %s was not read", name)
		}
	}
	addons, err := render.Addons(p, o.Addons)
	if err != nil {
		return nil, err
	}
	res := &Result{Hosts: make([]HostConfig, len(p.Hosts))}
	if p.Boot == inventory.BootLive {
		res.Warnings = append(res.Warnings, delivery.LiveBootWarning)
	}
	errs := make([]error, len(p.Hosts))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, h := range p.Hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			hc, err := Host(p, b, h, o.Overlays, addons, o.EmitButane)
			if err == nil && o.Format != FormatMatchbox {
				hc.Boot, err = deliveryFiles(p, b, hc)
			}
			res.Hosts[i], errs[i] = hc, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if o.Format == FormatMatchbox {
		files, warnings, err := matchboxFiles(p, res.Hosts, o.MatchboxURL)
		if err != nil {
			return nil, err
		}
		res.Files, res.Warnings = files, append(res.Warnings, warnings...)
		return res, res.Files.Check()
	}
	if o.Format != "" && o.Format != FormatIgnition {
		return nil, fmt.Errorf("unknown output format %q (want %s or %s)", o.Format, FormatIgnition, FormatMatchbox)
	}
	for _, hc := range res.Hosts {
		res.Files = append(res.Files, output.File{Path: hc.Host.Name + ".ign", Data: hc.Ignition, Mode: 0o600})
		if o.EmitButane {
			res.Files = append(res.Files, output.File{Path: hc.Host.Name + ".bu", Data: hc.Butane, Mode: 0o600})
		}
		res.Files = append(res.Files, hc.Boot...)
	}
	for _, k := range []struct{ file, row string }{{"admin.kubeconfig", pki.Admin}, {"super-admin.kubeconfig", pki.SuperAdmin}} {
		data, err := operatorKubeconfig(p, b, k.row)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, output.File{Path: k.file, Data: data, Mode: 0o600})
	}
	return res, res.Files.Check()
}

// Host produces one host's Ignition config, and with emitButane the Butane
// document it was translated from.
func Host(p *plan.Plan, b *pki.Bundle, h plan.Host, overlays map[string][]byte, addons []render.Addon, emitButane bool) (HostConfig, error) {
	generated, skel, err := render.Host(p, b, h, addons)
	if err != nil {
		return HostConfig{}, err
	}
	skelDoc, err := butane.Skeleton(skel)
	if err != nil {
		return HostConfig{}, fmt.Errorf("host %q: %w", h.Name, err)
	}
	sources := []butane.Source{{Name: butane.SkeletonName, Data: skelDoc}, {Name: "kign (generated)", Value: generated}}
	for _, name := range append(append([]string(nil), p.Overlays...), h.Overlays...) {
		sources = append(sources, butane.Source{Name: displayName(name), Data: overlays[name]})
	}
	merged, err := butane.MergeDoc(sources)
	if err != nil {
		return HostConfig{}, fmt.Errorf("host %q: %w", h.Name, err)
	}
	hc := HostConfig{Host: h}
	if emitButane {
		if hc.Butane, err = butane.Encode(merged.Root); err != nil {
			return HostConfig{}, fmt.Errorf("host %q: %w", h.Name, err)
		}
	}
	if hc.Ignition, err = butane.TranslateDoc(h.Name+".bu", merged); err != nil {
		return HostConfig{}, fmt.Errorf("host %q: %w", h.Name, err)
	}
	return hc, nil
}

// CheckOverlay translates one overlay on its own, strictly, so that its
// mistakes are reported with its own file name, line and column before it
// is merged. That it names the plan's variant and version is checked when
// it is merged.
func CheckOverlay(name string, data []byte) error {
	_, err := butane.Translate(displayName(name), data)
	return err
}

func hostOverlays(p *plan.Plan) []string {
	var out []string
	for _, h := range p.Hosts {
		out = append(out, h.Overlays...)
	}
	return out
}

func displayName(path string) string {
	if rel, err := filepath.Rel(".", path); err == nil && !filepath.IsAbs(rel) {
		return rel
	}
	return path
}

// AdminKubeconfig is the operator's kubeconfig: the VIP endpoint, the
// kubernetes CA and the admin client certificate (group
// kign:cluster-admins, bound to cluster-admin by kign's RBAC).
func AdminKubeconfig(p *plan.Plan, b *pki.Bundle) ([]byte, error) {
	return operatorKubeconfig(p, b, pki.Admin)
}

// operatorKubeconfig is a kubeconfig for the VIP with certificate row.
func operatorKubeconfig(p *plan.Plan, b *pki.Bundle, row string) ([]byte, error) {
	ca, ok := b.Get(pki.CA, "")
	if !ok {
		return nil, fmt.Errorf("the PKI bundle has no %s", pki.CA)
	}
	kp, ok := b.Get(row, "")
	if !ok {
		return nil, fmt.Errorf("the PKI bundle has no %s", row)
	}
	return render.Kubeconfig(p.ClusterName, p.APIServerEndpoint(), ca.CertPEM, kp.Cert.Subject.CommonName, kp.CertPEM, kp.KeyPEM)
}
