package pki

import (
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/plan"
)

// fixedNow is the clock of every test run (talos-style fixed clock).
var fixedNow = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

// seedPlan is the PKI-relevant part of examples/seed/hosts.yaml (master0..2,
// VIP 10.22.108.250, services 10.99.66.0/23) plus a delivery URL, so that
// every row of the table is issued. It is fixed here, not loaded, so these
// tests do not move when the example does.
func seedPlan(alg string) *plan.Plan {
	p := &plan.Plan{
		ClusterName:        "seed",
		Domain:             "cluster.local",
		ServiceCIDR:        netip.MustParsePrefix("10.99.66.0/23"),
		APIServerServiceIP: netip.MustParseAddr("10.99.66.1"),
		VIP:                netip.MustParseAddr("10.22.108.250"),
		APIServerPort:      6443,
		DeliveryURL:        "https://10.22.108.5:8443",
		PKI:                plan.PKIOptions{KeyAlgorithm: alg, CAValidity: plan.DefaultCAValidity, CertValidity: plan.DefaultCertValidity},
	}
	addHost(p, "master0", "10.22.108.20")
	addHost(p, "master1", "10.22.108.79")
	addHost(p, "master2", "10.22.108.92")
	return p
}

func addHost(p *plan.Plan, name, ip string) {
	p.Hosts = append(p.Hosts, plan.Host{Index: len(p.Hosts), Name: name, IP: netip.MustParseAddr(ip)})
}

var (
	coldOnce sync.Map // alg → *coldResult
)

type coldResult struct {
	once   sync.Once
	dir    string
	events []Event
	err    error
}

// coldDir returns a fresh copy of a bundle directory that a cold
// Complete+Save made for seedPlan(alg) at fixedNow. The bundle is made once
// per test binary and algorithm (RSA keys are slow), then copied.
func coldDir(t *testing.T, alg string) (dir string, events []Event) {
	t.Helper()
	v, _ := coldOnce.LoadOrStore(alg, &coldResult{})
	c := v.(*coldResult)
	c.once.Do(func() {
		c.dir, c.err = os.MkdirTemp("", "kign-pki-cold-")
		if c.err != nil {
			return
		}
		b := New()
		if c.events, c.err = b.Complete(seedPlan(alg), Options{Now: fixedNow}); c.err != nil {
			return
		}
		_, c.err = b.Save(filepath.Join(c.dir, "pki"))
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	dir = filepath.Join(t.TempDir(), "pki")
	copyTree(t, filepath.Join(c.dir, "pki"), dir)
	return dir, c.events
}

// coldBundle loads a fresh copy of the cold bundle.
func coldBundle(t *testing.T, alg string) (*Bundle, string) {
	t.Helper()
	dir, _ := coldDir(t, alg)
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b, dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	coldOnce.Range(func(_, v any) bool {
		if c := v.(*coldResult); c.dir != "" {
			os.RemoveAll(c.dir)
		}
		return true
	})
	os.Exit(code)
}

// copyTree copies a bundle directory with its modes and mtimes.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(dst, 0o700); err != nil {
				return err
			}
			return os.Chmod(dst, fi.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			return err
		}
		return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot records every file's bytes and mtime under dir.
type fileState struct {
	data  string
	mtime time.Time
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fileState{string(data), fi.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ageFiles sets every file's mtime an hour back, so a rewrite shows.
func ageFiles(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// eventKeys renders events as "action spec host" for comparisons.
func eventsWith(events []Event, action string) []string {
	var out []string
	for _, e := range events {
		if e.Action == action {
			s := e.Spec
			if e.Host != "" {
				s += "/" + e.Host
			}
			out = append(out, s)
		}
	}
	return out
}

// rows counts the rows of a full set for n hosts.
func rows(n int) int {
	c := 0
	for _, s := range Table {
		if s.PerHost {
			c += n
		} else {
			c++
		}
	}
	return c
}
