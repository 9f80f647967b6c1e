package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/coreos/ignition/v2/config"
	"github.com/coreos/ignition/v2/config/v3_7_experimental/types"
	"github.com/vincent-petithory/dataurl"
)

// applyIgnition runs the real Ignition binary on h's config, stages fetch
// and files, with h.root as the target root, inside h's network namespace
// (remote files come from the mirror as on a machine). As the recipe for a
// directory root says, the machine's user database is copied in first:
// Ignition makes users with `useradd --root`.
func applyIgnition(ignition string, h *host) error {
	for _, d := range []string{filepath.Join(h.root, "etc"), h.ignState} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, f := range []string{"passwd", "group", "shadow", "gshadow"} {
		data, err := os.ReadFile("/etc/" + f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(h.root, "etc", f), data, 0o644); err != nil {
			return err
		}
	}
	for _, stage := range []string{"fetch", "files"} {
		cmd := exec.Command("ip", "netns", "exec", h.ns, ignition,
			"-platform", "file", "-stage", stage, "-root", h.root,
			"-config-cache", filepath.Join(h.ignState, "ignition.json"),
			"-state-file", filepath.Join(h.ignState, "state"),
			"-neednet", filepath.Join(h.ignState, "neednet"),
			"-log-to-stdout")
		cmd.Env = append(os.Environ(), "IGNITION_CONFIG_FILE="+h.ign)
		out, err := cmd.CombinedOutput()
		os.WriteFile(filepath.Join(h.dir, "ignition-"+stage+".log"), out, 0o644)
		if err != nil {
			return fmt.Errorf("ignition -stage %s: %v\n%s", stage, err, tail(string(out), 20))
		}
	}
	return nil
}

// verifyRoot checks that the root holds what h's config asks for: every
// file (contents by data URL or verification hash, mode), folder, link and
// unit (contents, drop-ins, preset for enabled units). It returns one line
// per problem.
func verifyRoot(h *host) ([]string, error) {
	raw, err := os.ReadFile(h.ign)
	if err != nil {
		return nil, err
	}
	cfg, rpt, err := config.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", h.ign, err, rpt.String())
	}
	var bad []string
	problem := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	inRoot := func(p string) string { return filepath.Join(h.root, p) }

	for _, f := range cfg.Storage.Files {
		p := inRoot(f.Path)
		fi, err := os.Lstat(p)
		if err != nil {
			problem("file %s: %v", f.Path, err)
			continue
		}
		if !fi.Mode().IsRegular() {
			problem("file %s: not a regular file (%s)", f.Path, fi.Mode())
			continue
		}
		if f.Mode != nil && int(fi.Mode().Perm()) != *f.Mode&0o777 {
			problem("file %s: mode %o, config says %o", f.Path, fi.Mode().Perm(), *f.Mode)
		}
		if len(f.Append) > 0 || f.Contents.Source == nil {
			continue
		}
		if msg := checkContents(p, f.Contents); msg != "" {
			problem("file %s: %s", f.Path, msg)
		}
	}
	for _, d := range cfg.Storage.Directories {
		fi, err := os.Stat(inRoot(d.Path))
		switch {
		case err != nil:
			problem("directory %s: %v", d.Path, err)
		case !fi.IsDir():
			problem("directory %s: not a directory", d.Path)
		case d.Mode != nil && int(fi.Mode().Perm()) != *d.Mode&0o777:
			problem("directory %s: mode %o, config says %o", d.Path, fi.Mode().Perm(), *d.Mode)
		}
	}
	for _, l := range cfg.Storage.Links {
		got, err := os.Readlink(inRoot(l.Path))
		if err != nil || (l.Hard == nil || !*l.Hard) && l.Target != nil && got != *l.Target {
			problem("link %s: %q, %v", l.Path, got, err)
		}
	}
	preset, _ := os.ReadFile(inRoot("/etc/systemd/system-preset/20-ignition.preset"))
	for _, u := range cfg.Systemd.Units {
		unitPath := inRoot("/etc/systemd/system/" + u.Name)
		if u.Contents != nil {
			got, err := os.ReadFile(unitPath)
			if err != nil || string(got) != *u.Contents {
				problem("unit %s: contents differ from the config (%v)", u.Name, err)
			}
		}
		for _, d := range u.Dropins {
			if d.Contents == nil {
				continue
			}
			got, err := os.ReadFile(filepath.Join(unitPath+".d", d.Name))
			if err != nil || string(got) != *d.Contents {
				problem("unit %s drop-in %s: contents differ from the config (%v)", u.Name, d.Name, err)
			}
		}
		if u.Enabled != nil && *u.Enabled && !bytes.Contains(preset, []byte("enable "+u.Name+"\n")) {
			problem("unit %s: enabled in the config but not in 20-ignition.preset", u.Name)
		}
		if u.Mask != nil && *u.Mask {
			if t, _ := os.Readlink(unitPath); t != "/dev/null" {
				problem("unit %s: masked in the config but not linked to /dev/null", u.Name)
			}
		}
	}
	for _, u := range cfg.Passwd.Users {
		passwd, _ := os.ReadFile(inRoot("/etc/passwd"))
		if !bytes.Contains(passwd, []byte("\n"+u.Name+":")) && !bytes.HasPrefix(passwd, []byte(u.Name+":")) {
			problem("user %s: not in /etc/passwd", u.Name)
		}
	}
	return bad, nil
}

// enabledUnits returns the units h's config enables.
func enabledUnits(h *host) ([]string, error) {
	raw, err := os.ReadFile(h.ign)
	if err != nil {
		return nil, err
	}
	cfg, _, err := config.Parse(raw)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range cfg.Systemd.Units {
		if u.Enabled != nil && *u.Enabled {
			out = append(out, u.Name)
		}
	}
	return out, nil
}

// allUnits returns every unit h's config names.
func allUnits(h *host) []string {
	raw, err := os.ReadFile(h.ign)
	if err != nil {
		return nil
	}
	cfg, _, err := config.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	for _, u := range cfg.Systemd.Units {
		out = append(out, u.Name)
	}
	return out
}

// checkContents compares a written file with its source: a data URL's
// bytes, or the verification hash of a remote source. With compression the
// source and hash are of the compressed form, the file holds the plain one.
func checkContents(path string, r types.Resource) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	src := *r.Source
	if strings.HasPrefix(src, "data:") {
		du, err := dataurl.DecodeString(src)
		if err != nil {
			return "bad data URL: " + err.Error()
		}
		want := du.Data
		if r.Compression != nil && *r.Compression == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(want))
			if err != nil {
				return err.Error()
			}
			if want, err = io.ReadAll(zr); err != nil {
				return err.Error()
			}
		}
		if !bytes.Equal(data, want) {
			return fmt.Sprintf("contents differ from the config (%d bytes, want %d)", len(data), len(want))
		}
		return ""
	}
	if r.Verification.Hash == nil {
		return "remote source without a verification hash: " + src
	}
	if r.Compression != nil && *r.Compression != "" {
		return "" // the hash is of the compressed download, not checked here
	}
	algo, want, _ := strings.Cut(*r.Verification.Hash, "-")
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return "unknown hash " + algo
	}
	h.Write(data)
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Sprintf("%s is %s, config says %s", algo, got, want)
	}
	return ""
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
