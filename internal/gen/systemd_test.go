package gen

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/testtool"
)

// unitRoot lays out a root folder in which `systemd-analyze verify --root`
// can check kign's units: the host's systemd units (copied, symlinks kept),
// the /bin, /lib, /sbin links, a stand-in executable for every command a
// unit runs, and the units and drop-ins of one config.
func unitRoot(t *testing.T, ph parsedHost) (root string, units []string) {
	t.Helper()
	root = t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755))
	if out, err := exec.Command("cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/")).CombinedOutput(); err != nil {
		t.Fatalf("copy units: %v\n%s", err, out)
	}
	for _, d := range []string{"bin", "lib", "sbin"} {
		must(os.MkdirAll(filepath.Join(root, "usr", d), 0o755))
		must(os.Symlink("usr/"+d, filepath.Join(root, d)))
	}
	etc := filepath.Join(root, "etc/systemd/system")
	must(os.MkdirAll(etc, 0o755))
	stub := func(path string) {
		p := filepath.Join(root, path)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
	}
	for _, u := range ph.Raw.Systemd.Units {
		var texts []string
		if u.Contents != nil {
			must(os.WriteFile(filepath.Join(etc, u.Name), []byte(*u.Contents), 0o644))
			texts = append(texts, *u.Contents)
		} else if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/system", u.Name)); err != nil {
			// A unit the OS ships (containerd.service): stand in a minimal one
			// so its drop-ins can be checked.
			must(os.WriteFile(filepath.Join(root, "usr/lib/systemd/system", u.Name), []byte("[Service]\nExecStart=/usr/bin/true\n"), 0o644))
			stub("/usr/bin/true")
		}
		for _, d := range u.Dropins {
			dir := filepath.Join(etc, u.Name+".d")
			must(os.MkdirAll(dir, 0o755))
			must(os.WriteFile(filepath.Join(dir, d.Name), []byte(*d.Contents), 0o644))
			texts = append(texts, *d.Contents)
		}
		for _, text := range texts {
			for _, line := range strings.Split(text, "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok || !strings.HasPrefix(k, "Exec") || v == "" {
					continue
				}
				if cmd := strings.Fields(strings.TrimLeft(v, "-@:+!"))[0]; strings.HasPrefix(cmd, "/") {
					stub(cmd)
				}
			}
		}
		units = append(units, u.Name)
	}
	sort.Strings(units)
	return root, units
}

// verifyUnits runs systemd-analyze verify on every unit; any output, even a
// warning (which leaves the exit status 0), is a failure.
func verifyUnits(t *testing.T, tool, root string, units []string) []string {
	var problems []string
	for _, u := range units {
		cmd := exec.Command(tool, "verify", "--man=no", "--root="+root, u)
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0")
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			problems = append(problems, u+": "+strings.TrimSpace(string(out)))
		}
	}
	return problems
}

// TestUnitsVerify: every unit and drop-in kign writes passes
// `systemd-analyze verify` without a single warning, on both OS variants.
func TestUnitsVerify(t *testing.T) {
	tool := testtool.Need(t, "systemd-analyze", "systemd")
	for _, path := range examples {
		p, _, res := generate(t, path)
		hc := res.Hosts[0]
		t.Run(p.ClusterName, func(t *testing.T) {
			root, units := unitRoot(t, parseIgnition(t, hc.Ignition))
			if len(units) < 6 {
				t.Fatalf("only %d units: %v", len(units), units)
			}
			for _, problem := range verifyUnits(t, tool, root, units) {
				t.Error(problem)
			}
		})
	}
}

// TestUnitsVerifyCatchesMistakes shows the check above can fail: a unit with
// a misspelt key, and one whose command does not exist.
func TestUnitsVerifyCatchesMistakes(t *testing.T) {
	tool := testtool.Need(t, "systemd-analyze", "systemd")
	_, _, res := generate(t, examples[0])
	root, _ := unitRoot(t, parseIgnition(t, res.Hosts[0].Ignition))
	etc := filepath.Join(root, "etc/systemd/system")
	for name, text := range map[string]string{
		"typo.service":    "[Service]\nExecStart=/usr/bin/mkdir -p /x\nRestartSecs=10\n",
		"missing.service": "[Service]\nExecStart=/opt/bin/not-there\n",
	} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if problems := verifyUnits(t, tool, root, []string{name}); len(problems) == 0 {
			t.Errorf("%s: systemd-analyze verify found nothing wrong", name)
		}
	}
}
