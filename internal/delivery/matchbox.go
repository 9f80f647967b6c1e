package delivery

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coreos/go-semver/semver"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/plan"
)

// MatchboxWarning is printed, loudly, by every matchbox export.
const MatchboxWarning = "WARNING: matchbox serves these Ignition configs, with every host's private keys, " +
	"over plain HTTP to ANY client that names a matching MAC address, without authentication " +
	"(its maintainers: never put secrets in matchbox, poseidon/matchbox#706). Anyone on the " +
	"provisioning network can read them. Use `kign serve` (per-host tokens over HTTPS) unless " +
	"that network is isolated and trusted."

// matchboxMaxSpec is the highest Ignition spec matchbox parses: it renders
// raw Ignition through Ignition's forward-compatible v3_4 parser
// (poseidon/matchbox#1079), and a config it cannot parse is served empty.
var matchboxMaxSpec = semver.Version{Major: 3, Minor: 4}

// MatchboxConfig says how hosts reach matchbox.
type MatchboxConfig struct {
	// HTTPEndpoint is matchbox's HTTP base URL as hosts reach it, e.g.
	// http://matchbox.example.com:8080. Required.
	HTTPEndpoint string
	// PlatformID and ExtraArgs are as in IPXEConfig.
	PlatformID string
	ExtraArgs  []string
}

// matchboxProfile and matchboxGroup are matchbox's data files
// (poseidon/matchbox docs/matchbox.md; examples/profiles/fedora-coreos.json).
type matchboxProfile struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Boot       matchboxBoot `json:"boot"`
	IgnitionID string       `json:"ignition_id"`
}

type matchboxBoot struct {
	Kernel string   `json:"kernel"`
	Initrd []string `json:"initrd"`
	Args   []string `json:"args"`
}

type matchboxGroup struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Profile  string            `json:"profile"`
	Selector map[string]string `json:"selector"`
}

// Matchbox renders the data folder an existing matchbox server reads
// (-data-path): per host, profiles/ID.json (kernel, initramfs and the
// kernel arguments of KernelArgs, with ignition.config.url pointing at
// matchbox's /ignition endpoint), groups/ID.json (selecting the host by
// MAC) and ignition/ID.ign (the full config, mode 0600), where ID is
// CLUSTER-HOST. ign maps host name to full config.
//
// Every host needs a MAC: a group without a selector would match every
// machine and hand one host's keys to all. The returned warnings start with
// MatchboxWarning and must be shown to the operator; the export also warns
// when a config's spec is newer than matchbox can parse.
func Matchbox(p *plan.Plan, img images.Image, ign map[string][]byte, cfg MatchboxConfig) (output.Set, []string, error) {
	if !strings.HasPrefix(cfg.HTTPEndpoint, "http://") && !strings.HasPrefix(cfg.HTTPEndpoint, "https://") {
		return nil, nil, fmt.Errorf("delivery: matchbox: endpoint %q must be an http(s):// URL", cfg.HTTPEndpoint)
	}
	var missing []string
	for _, h := range p.Hosts {
		if h.MAC == "" {
			missing = append(missing, h.Name)
		}
		if _, ok := ign[h.Name]; !ok {
			return nil, nil, fmt.Errorf("delivery: matchbox: no Ignition config for host %q", h.Name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("delivery: matchbox selects hosts by MAC; set hosts[].mac for %s", strings.Join(missing, ", "))
	}

	warnings := []string{MatchboxWarning}
	base := strings.TrimRight(cfg.HTTPEndpoint, "/")
	var set output.Set
	for _, h := range p.Hosts {
		id := p.ClusterName + "-" + h.Name
		if v, err := specVersion(ign[h.Name]); err != nil {
			return nil, nil, fmt.Errorf("delivery: matchbox: host %q: %w", h.Name, err)
		} else if matchboxMaxSpec.LessThan(*v) {
			warnings = append(warnings, fmt.Sprintf("WARNING: %s is Ignition spec %s; matchbox parses at most spec %s "+
				"(poseidon/matchbox#1079) and would serve host %s an EMPTY config", id+".ign", v, matchboxMaxSpec, h.Name))
		}
		boot, err := BootConfig(p, h, ign[h.Name])
		if err != nil {
			return nil, nil, err
		}
		args := KernelArgs(p.OS, img, IPXEConfig{
			ConfigURL:  base + "/ignition?mac=${mac:hexhyp}",
			PlatformID: cfg.PlatformID,
			ExtraArgs:  cfg.ExtraArgs,
		})
		prof := matchboxProfile{
			ID: id, Name: fmt.Sprintf("kign %s %s (%s %s)", p.ClusterName, h.Name, img.OS, img.Version),
			Boot: matchboxBoot{
				Kernel: img.Kernel.URL,
				Initrd: []string{"--name " + initrdMain + " " + img.Initramfs.URL},
				Args:   args,
			},
			IgnitionID: id + ".ign",
		}
		grp := matchboxGroup{ID: id, Name: id, Profile: id, Selector: map[string]string{"mac": h.MAC}}
		pj, err := marshalIndent(prof)
		if err != nil {
			return nil, nil, err
		}
		gj, err := marshalIndent(grp)
		if err != nil {
			return nil, nil, err
		}
		set = append(set,
			output.File{Path: "profiles/" + id + ".json", Data: pj, Mode: 0o644},
			output.File{Path: "groups/" + id + ".json", Data: gj, Mode: 0o644},
			output.File{Path: "ignition/" + id + ".ign", Data: boot, Mode: 0o600},
		)
	}
	return set, warnings, set.Check()
}

func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// specVersion reads ignition.version from a config.
func specVersion(ign []byte) (*semver.Version, error) {
	var head struct {
		Ignition struct {
			Version string `json:"version"`
		} `json:"ignition"`
	}
	if err := json.Unmarshal(ign, &head); err != nil {
		return nil, fmt.Errorf("not an Ignition config: %w", err)
	}
	v, err := semver.NewVersion(head.Ignition.Version)
	if err != nil {
		return nil, fmt.Errorf("ignition.version %q: %w", head.Ignition.Version, err)
	}
	return v, nil
}
