package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/initca"
)

// seedCA makes a CA the way the seed guide does:
// `cfssl gencert -initca ca-csr.json | cfssljson -bare ca -` with CN
// kubernetes, O KUBERNETES, RSA-2048 (ca.pem, ca-key.pem).
func seedCA(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, _, keyPEM, err := initca.New(&csr.CertificateRequest{
		CN:         "kubernetes",
		Names:      []csr.Name{{O: "KUBERNETES"}},
		KeyRequest: &csr.KeyRequest{A: "rsa", S: 2048},
	})
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// TestAdoptSeedCA adopts the guide's single CA for both kubernetes and
// etcd, completes the bundle and checks that every kubernetes and etcd
// certificate chains to it, that a re-run reuses everything, and that the
// bundle files hold the adopted bytes.
func TestAdoptSeedCA(t *testing.T) {
	certPEM, keyPEM := seedCA(t)
	now := time.Now() // initca stamps the CA with the wall clock
	dir := filepath.Join(t.TempDir(), "pki")
	b := New()
	var events []Event
	for _, alias := range []string{"kubernetes", "etcd"} {
		ev, err := b.Adopt(alias, certPEM, keyPEM, false)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	if !strings.HasPrefix(events[0].String(), "[pki] adopted ca (CN=kubernetes,O=KUBERNETES, rsa, expires ") {
		t.Errorf("event %q", events[0])
	}
	if !strings.Contains(events[1].Reason, "same CA as ca") {
		t.Errorf("no warning about the shared CA: %q", events[1])
	}
	p := seedPlan(RSA)
	p.PKI.KeyAlgorithm = ECDSA // the CA's algorithm does not constrain the leaves'
	got, err := b.Complete(p, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{CA, EtcdCA}; !slices.Equal(eventsWith(got, ActionUsing), want) {
		t.Errorf("using %v, want %v", eventsWith(got, ActionUsing), want)
	}
	if _, err := b.Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		path string
		want []byte
	}{{"ca.crt", certPEM}, {"ca.key", keyPEM}, {"etcd/ca.crt", certPEM}, {"etcd/ca.key", keyPEM}} {
		if data, _ := os.ReadFile(filepath.Join(dir, f.path)); string(data) != string(f.want) {
			t.Errorf("%s differs from the adopted file", f.path)
		}
	}
	root, _ := parseCert(certPEM)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	for _, s := range Table {
		if s.Kind != KindLeaf || s.CA == FrontProxyCA {
			continue
		}
		host := ""
		if s.PerHost {
			host = "master2"
		}
		kp, _ := b.Get(s.Name, host)
		if _, err := kp.Cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: s.Usages, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
	events, written := rerun(t, dir, p, Options{Now: now})
	if len(written) != 0 || len(eventsWith(events, ActionUsing)) != len(events) {
		t.Errorf("re-run wrote %v", written)
	}
}

// TestAdoptRules checks what Adopt refuses and what --force does.
func TestAdoptRules(t *testing.T) {
	certPEM, keyPEM := seedCA(t)
	leaf, _ := coldBundle(t, ECDSA)
	admin, _ := leaf.Get(Admin, "")
	otherCert, otherKey := seedCA(t)
	tests := []struct {
		name      string
		alias     string
		cert, key []byte
		force     bool
		wantErr   string
	}{
		{"unknown CA", "flannel", certPEM, keyPEM, false, `unknown CA "flannel"`},
		{"not a CA", "kubernetes", admin.CertPEM, admin.KeyPEM, false, "is not a CA"},
		{"key mismatch", "etcd", certPEM, otherKey, false, "key does not match"},
		{"two certificates", "etcd", append(slices.Clone(certPEM), otherCert...), keyPEM, false, "exactly one PEM certificate, found 2"},
		{"garbage key", "etcd", certPEM, []byte("nope"), false, "CA key"},
		{"over a different CA", "etcd", certPEM, keyPEM, false, "already has a different etcd-ca (etcd/ca.crt); --force replaces it"},
		{"over a different CA with force", "front-proxy", certPEM, keyPEM, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, dir := coldBundle(t, ECDSA)
			ev, err := b.Adopt(tt.alias, tt.cert, tt.key, tt.force)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(ev.Reason, "replacing the previous front-proxy-ca") {
				t.Errorf("event %q", ev)
			}
			old, _ := os.ReadFile(filepath.Join(dir, "front-proxy-ca.key"))
			if _, err := b.Save(dir); err != nil {
				t.Fatal(err)
			}
			kept, _ := filepath.Glob(filepath.Join(dir, "front-proxy-ca.key.replaced-*"))
			if len(kept) != 1 {
				t.Fatalf("old CA key not kept: %v", kept)
			}
			if data, _ := os.ReadFile(kept[0]); string(data) != string(old) {
				t.Error("kept key differs from the old key")
			}
			// The old CA's leaf now needs --force-reissue.
			b, _ = Load(dir)
			if _, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "front-proxy-client.crt") {
				t.Fatalf("error %v", err)
			}
			events, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow, ForceReissue: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := eventsWith(events, ActionReissued); !slices.Equal(got, []string{FrontProxyClient}) {
				t.Errorf("re-issued %v", got)
			}
		})
	}
	t.Run("same CA again is a no-op", func(t *testing.T) {
		b := New()
		b.Adopt("kubernetes", certPEM, keyPEM, false)
		ev, err := b.Adopt("kubernetes", certPEM, keyPEM, false)
		if err != nil || ev.Action != ActionUsing {
			t.Errorf("%v %v", ev, err)
		}
	})
	t.Run("Save never replaces a CA it did not adopt", func(t *testing.T) {
		b, dir := coldBundle(t, ECDSA)
		b.get(CA, "").set(certPEM, keyPEM)
		if _, err := b.Save(dir); err == nil || !strings.Contains(err.Error(), "refusing to replace the ca CA") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("Save never overwrites a file changed since Load", func(t *testing.T) {
		b, dir := coldBundle(t, ECDSA)
		p := seedPlan(ECDSA)
		p.ExtraSANDNS = []string{"api.example.com"}
		if _, err := b.Complete(p, Options{Now: fixedNow}); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "hosts/master1/apiserver.crt"), []byte("edited by hand"))
		if _, err := b.Save(dir); err == nil || !strings.Contains(err.Error(), "apiserver.crt changed on disk since it was loaded") {
			t.Errorf("error %v", err)
		}
	})
}
