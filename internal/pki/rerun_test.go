package pki

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kign-project/kign/internal/plan"
)

// rerun loads dir, completes it for p at fixedNow and saves it.
func rerun(t *testing.T, dir string, p *plan.Plan, o Options) ([]Event, []string) {
	t.Helper()
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if o.Now.IsZero() {
		o.Now = fixedNow
	}
	events, err := b.Complete(p, o)
	if err != nil {
		t.Fatal(err)
	}
	written, err := b.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range written {
		written[i], _ = filepath.Rel(dir, w)
	}
	return events, written
}

// TestRerun changes the plan between two runs and checks exactly what is
// re-issued and written, and that every other file keeps its bytes and mtime.
func TestRerun(t *testing.T) {
	perHost := func(host string) (specs, files []string) {
		for _, s := range Table {
			if s.PerHost {
				specs = append(specs, s.Name+"/"+host)
				c, k := s.BundlePaths(host)
				files = append(files, k, c)
			}
		}
		return specs, files
	}
	apiservers := func(hosts ...string) (specs, files []string) {
		s, _ := Lookup(APIServer)
		for _, h := range hosts {
			specs = append(specs, APIServer+"/"+h)
			c, k := s.BundlePaths(h)
			files = append(files, k, c)
		}
		return specs, files
	}
	newSpecs, newFiles := perHost("master3")
	sanSpecs, sanFiles := apiservers("master0", "master1", "master2")
	ipSpecs := []string{APIServer + "/master1", KubeletServing + "/master1", EtcdServer + "/master1", EtcdPeer + "/master1"}
	tests := []struct {
		name    string
		alg     string
		change  func(p *plan.Plan)
		issued  []string
		renewed []string
		reason  string // every re-issue's reason contains it
		written []string
	}{
		{name: "same plan writes nothing", alg: RSA, change: func(*plan.Plan) {}},
		{name: "a new host issues only its certificates", alg: RSA,
			change: func(p *plan.Plan) { addHost(p, "master3", "10.22.108.93") },
			issued: newSpecs, written: newFiles},
		{name: "extraSANs re-issue only the apiserver certificates", alg: ECDSA,
			change:  func(p *plan.Plan) { p.ExtraSANIPs = []netip.Addr{netip.MustParseAddr("10.0.0.9")} },
			renewed: sanSpecs, reason: "SANs changed: +10.0.0.9", written: sanFiles},
		{name: "a domain change re-issues only the apiserver certificates", alg: ECDSA,
			change:  func(p *plan.Plan) { p.Domain = "corp.example" },
			renewed: sanSpecs, reason: "+kubernetes.default.svc.corp.example -kubernetes.default.svc.cluster.local", written: sanFiles},
		{name: "a host's new IP re-issues that host's serving certificates", alg: ECDSA,
			change:  func(p *plan.Plan) { p.Hosts[1].IP = netip.MustParseAddr("10.22.108.80") },
			renewed: ipSpecs, reason: "+10.22.108.80 -10.22.108.79"},
		{name: "a removed host's files stay", alg: ECDSA,
			change: func(p *plan.Plan) { p.Hosts = p.Hosts[:2] }},
		// but kign serve's, which is ECDSA whatever pki.keyAlgorithm says
		{name: "a new key algorithm re-issues every leaf", alg: ECDSA,
			change:  func(p *plan.Plan) { p.PKI.KeyAlgorithm = RSA },
			renewed: slices.DeleteFunc(leafRows(seedPlan(ECDSA)), func(r string) bool { return r == DeliveryServing }), reason: "key algorithm ecdsa, plan wants rsa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := coldDir(t, tt.alg)
			ageFiles(t, dir)
			before := snapshot(t, dir)
			p := seedPlan(tt.alg)
			tt.change(p)
			events, written := rerun(t, dir, p, Options{})
			if got := eventsWith(events, ActionIssued); !slices.Equal(got, tt.issued) {
				t.Errorf("issued %v, want %v", got, tt.issued)
			}
			if got := eventsWith(events, ActionReissued); !slices.Equal(got, tt.renewed) {
				t.Errorf("re-issued %v, want %v", got, tt.renewed)
			}
			for _, e := range events {
				if e.Action == ActionReissued && !strings.Contains(e.Reason, tt.reason) {
					t.Errorf("%v: reason lacks %q", e, tt.reason)
				}
			}
			// One event per row and host, one for the encryption keys and
			// one for the delivery token secret.
			if len(events) != rows(len(p.Hosts))+2 {
				t.Errorf("%d events, want one per row and host, the encryption keys and the token secret (%d)", len(events), rows(len(p.Hosts))+2)
			}
			if tt.written != nil && !slices.Equal(written, tt.written) {
				t.Errorf("wrote %v, want %v", written, tt.written)
			}
			after := snapshot(t, dir)
			for path, was := range before {
				now := after[path]
				if slices.Contains(written, path) {
					if now.data == was.data {
						t.Errorf("%s: written with the same bytes", path)
					}
					continue
				}
				if now != was {
					t.Errorf("%s: changed though not re-issued", path)
				}
			}
			// A second run with the same plan changes nothing.
			events, written = rerun(t, dir, p, Options{})
			if len(written) != 0 || len(eventsWith(events, ActionUsing)) != len(events) {
				t.Errorf("second run wrote %v, events %v", written, events)
			}
			if !slices.Equal(snapshotNames(after), snapshotNames(snapshot(t, dir))) {
				t.Error("second run added or removed files")
			}
		})
	}
}

func leafRows(p *plan.Plan) []string {
	var out []string
	for _, s := range Table {
		if s.Kind != KindLeaf {
			continue
		}
		if !s.PerHost {
			out = append(out, s.Name)
			continue
		}
		for _, h := range p.Hosts {
			out = append(out, s.Name+"/"+h.Name)
		}
	}
	return out
}

func snapshotNames(m map[string]fileState) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// TestCAMismatch replaces the etcd CA under the bundle's leaves: Complete
// must refuse, name the files and the command, and re-issue them only with
// ForceReissue. A broken CA is always an error.
func TestCAMismatch(t *testing.T) {
	other := New() // same plan, different keys
	if _, err := other.Complete(seedPlan(ECDSA), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	otherCA, _ := other.Get(EtcdCA, "")
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)
		force   bool
		wantErr []string
	}{
		{name: "replaced CA", change: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "etcd/ca.crt"), otherCA.CertPEM)
			writeFile(t, filepath.Join(dir, "etcd/ca.key"), otherCA.KeyPEM)
		}, wantErr: []string{"etcd-ca (etcd/ca.crt) did not sign: hosts/master0/etcd-server.crt, hosts/master1/etcd-server.crt", "etcd/flannel-client.crt", "--force-reissue"}},
		{name: "replaced CA with force", force: true, change: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "etcd/ca.crt"), otherCA.CertPEM)
			writeFile(t, filepath.Join(dir, "etcd/ca.key"), otherCA.KeyPEM)
		}},
		{name: "CA key does not match", change: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "etcd/ca.key"), otherCA.KeyPEM)
		}, wantErr: []string{"etcd-ca CA", "key does not match"}},
		{name: "CA certificate removed", change: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "etcd/ca.crt"))
		}, wantErr: []string{"etcd/ca.crt is missing but etcd/ca.key exists"}},
		{name: "CA removed with its key", change: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "etcd/ca.crt"))
			os.Remove(filepath.Join(dir, "etcd/ca.key"))
		}, wantErr: []string{"etcd-ca (etcd/ca.crt) is missing, so a new one would be created", "etcd/healthcheck-client.crt"}},
		{name: "service-account key removed", change: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "sa.key"))
		}, wantErr: []string{"sa.pub exists but sa.key is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := coldDir(t, ECDSA)
			tt.change(t, dir)
			b, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			events, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow, ForceReissue: tt.force})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					s, _ := Lookup(e.Spec)
					if reissued := e.Action == ActionReissued; reissued != (s.CA == EtcdCA) {
						t.Errorf("%v", e)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, ok := b.Get(EtcdServer, "master0"); !ok && tt.name != "CA removed with its key" {
				t.Error("failed Complete changed the bundle")
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
