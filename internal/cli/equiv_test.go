package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate refuses exactly what gen refuses, with the same messages, and
// accepts what gen accepts: for bad inventories, bad overlays (a decimal
// mode, a path kign writes itself, another variant, a missing file) and bad
// lock files. Neither writes anything on a refusal.
func TestValidateRefusesWhatGenRefuses(t *testing.T) {
	seed, _ := os.ReadFile("../../examples/seed/hosts.yaml")
	withOverlay := func(overlay string) map[string]string {
		return map[string]string{
			"hosts.yaml": string(seed) + "overlays: [extra.bu]\n",
			"extra.bu":   overlay,
		}
	}
	cases := map[string]map[string]string{
		"good":                       {"hosts.yaml": string(seed)},
		"good with overlay":          withOverlay("variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 0644\n      contents: {inline: hi}\n"),
		"unknown field":              {"hosts.yaml": strings.Replace(string(seed), "serviceCIDR:", "serviceCidr:", 1)},
		"overlay decimal mode":       withOverlay("variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 644\n      contents: {inline: hi}\n"),
		"overlay writes a kign path": withOverlay("variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/kubernetes/pki/ca.crt\n      mode: 0644\n      contents: {inline: x}\n"),
		"overlay of another variant": withOverlay("variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 0644\n      contents: {inline: hi}\n"),
		"overlay missing":            {"hosts.yaml": string(seed) + "overlays: [missing.bu]\n"},
		"lock file not YAML":         {"hosts.yaml": string(seed), "hosts.lock": "{{{ no\n"},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			results := map[string]string{}
			codes := map[string]int{}
			for _, cmd := range []string{"validate", "gen"} {
				dir := t.TempDir()
				for f, data := range files {
					if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				hosts := filepath.Join(dir, "hosts.yaml")
				args := []string{cmd, "--hosts", hosts}
				if cmd == "gen" {
					args = append(args, "-o", filepath.Join(dir, "out"))
				}
				code, _, stderr := kign(t, args...)
				codes[cmd] = code
				// The same message, prefixed with the command's own name.
				results[cmd] = strings.ReplaceAll(strings.ReplaceAll(stderr, dir, "DIR"), "kign "+cmd+": ", "kign: ")
				if cmd == "validate" || code != ExitOK {
					entries, _ := os.ReadDir(dir)
					if len(entries) != len(files) {
						t.Errorf("%s left files behind: %v", cmd, entries)
					}
				}
			}
			if codes["validate"] != codes["gen"] {
				t.Fatalf("validate exit %d, gen exit %d\nvalidate: %s\ngen: %s", codes["validate"], codes["gen"], results["validate"], results["gen"])
			}
			want := strings.HasPrefix(name, "good")
			if (codes["gen"] == ExitOK) != want {
				t.Fatalf("gen exit %d, want success %v:\n%s", codes["gen"], want, results["gen"])
			}
			if !want && results["validate"] != results["gen"] {
				t.Errorf("different messages\nvalidate: %s\ngen:      %s", results["validate"], results["gen"])
			}
		})
	}
}
