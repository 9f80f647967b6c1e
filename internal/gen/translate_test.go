package gen

import (
	"bytes"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kign-project/kign/butane"
)

// TestTranslateDocMatchesTranslate: the fast path (typed entries translated
// by kign, the rest of the merged tree straight into Butane's typed
// translator) gives the same bytes as Butane's own TranslateBytes on the
// emitted .bu, for every host of both examples (fcos 1.6.0 and flatcar
// 1.1.0), and again with overlays that interleave files and directories with
// the generated ones, add SSH keys to the generated user, a drop-in to a
// skeleton unit, and Ignition-level settings. This is what lets <host>.bu
// stand for the config it came with.
func TestTranslateDocMatchesTranslate(t *testing.T) {
	extra := func(variant, version string) []byte {
		return []byte(`variant: ` + variant + `
version: ` + version + `
passwd:
  users:
    - name: core
      ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC52S2FauvO9eCS2VtUlydscx4HsrwrgDELi4ZkjgGwk extra@example]
storage:
  directories:
    - path: /var/lib/site
      mode: 0750
  files:
    - path: /etc/site/motd
      contents:
        inline: "site\n"
    - path: /opt/site/tool
      mode: 0755
      contents:
        source: https://mirror.example.internal/tool
        verification:
          hash: sha256-` + strings.Repeat("ab", 32) + `
`)
	}
	cases := []struct {
		example  string
		overlays map[string][]byte
	}{
		{examples[0], nil},
		{examples[1], nil},
		{examples[0], map[string][]byte{
			"../../overlays/admin-user.bu": nil, "../../overlays/ntp.bu": nil, "../../overlays/proxy.bu": nil,
			"extra-fcos.bu": extra("fcos", "1.6.0"),
		}},
		{examples[1], map[string][]byte{"extra-flatcar.bu": extra("flatcar", "1.1.0")}},
	}
	for _, c := range cases {
		p := loadPlan(t, c.example)
		b := testBundle(t, c.example, p)
		for _, name := range slices.Sorted(maps.Keys(c.overlays)) { // one merge order every run
			if c.overlays[name] == nil {
				c.overlays[name] = readFile(t, name)
			}
			p.Overlays = append(p.Overlays, name)
		}
		res, err := Generate(p, b, Options{EmitButane: true, Overlays: c.overlays})
		if err != nil {
			t.Fatal(err)
		}
		for _, hc := range res.Hosts {
			slow, err := butane.Translate(hc.Host.Name+".bu", hc.Butane)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(slow, hc.Ignition) {
				t.Errorf("%s with %d overlays: TranslateDoc and butane's TranslateBytes disagree:\n%s\n%s", hc.Host.Name, len(c.overlays), slow, hc.Ignition)
			}
			if len(c.overlays) > 0 && !bytes.Contains(hc.Ignition, []byte("/opt/site/tool")) {
				t.Errorf("%s: the overlay's file is missing", hc.Host.Name)
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
