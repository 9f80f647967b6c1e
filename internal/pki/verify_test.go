package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/plan"
)

// TestVerify checks a cold bundle, for each key algorithm: every leaf
// verifies against its own CA for its usages (and not against the other
// CAs), every key matches its certificate, subjects and SANs are the
// table's, and the run's fixed clock is in every certificate.
func TestVerify(t *testing.T) {
	for _, alg := range []string{RSA, ECDSA} {
		t.Run(alg, func(t *testing.T) {
			b, _ := coldBundle(t, alg)
			p := seedPlan(alg)
			for _, s := range Table {
				hosts := []plan.Host{{}}
				if s.PerHost {
					hosts = p.Hosts
				}
				for _, h := range hosts {
					kp, ok := b.Get(s.Name, h.Name)
					if !ok {
						t.Errorf("%s %s: missing", s.Name, h.Name)
						continue
					}
					key, err := parseKey(kp.KeyPEM)
					if err != nil {
						t.Fatalf("%s %s: %v", s.Name, h.Name, err)
					}
					if s.Kind == KindKeyPair {
						pub, err := parsePublic(kp.CertPEM)
						if err != nil || !keyMatches(key, pub) {
							t.Errorf("%s: public key does not match (%v)", s.Name, err)
						}
						continue
					}
					c := kp.Cert
					if !keyMatches(key, c.PublicKey) {
						t.Errorf("%s %s: key does not match certificate", s.Name, h.Name)
					}
					if got := keyAlgorithm(c.PublicKey); got != s.keyAlgorithmFor(alg) {
						t.Errorf("%s %s: key algorithm %s", s.Name, h.Name, got)
					}
					if !c.NotBefore.Equal(fixedNow.Add(-Backdate)) {
						t.Errorf("%s %s: NotBefore %s", s.Name, h.Name, c.NotBefore)
					}
					validity := plan.DefaultCertValidity
					if s.Kind == KindCA {
						validity = plan.DefaultCAValidity
					}
					if !c.NotAfter.Equal(fixedNow.Add(validity)) {
						t.Errorf("%s %s: NotAfter %s, want now+%s", s.Name, h.Name, c.NotAfter, validity)
					}
					if s.Kind == KindCA {
						if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 || c.Subject.CommonName != s.CN {
							t.Errorf("%s: not a proper CA", s.Name)
						}
						continue
					}
					verifyLeaf(t, b, s, h, c, p)
				}
			}
		})
	}
}

func verifyLeaf(t *testing.T, b *Bundle, s Spec, h plan.Host, c *x509.Certificate, p *plan.Plan) {
	t.Helper()
	for _, caSpec := range Table {
		if caSpec.Kind != KindCA {
			continue
		}
		ca, _ := b.Get(caSpec.Name, "")
		roots := x509.NewCertPool()
		roots.AddCert(ca.Cert)
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: fixedNow, KeyUsages: s.Usages})
		if caSpec.Name == s.CA && err != nil {
			t.Errorf("%s %s: does not verify against %s: %v", s.Name, h.Name, s.CA, err)
		}
		if caSpec.Name != s.CA && err == nil {
			t.Errorf("%s %s: verifies against %s too", s.Name, h.Name, caSpec.Name)
		}
	}
	if slices.Contains(s.Usages, x509.ExtKeyUsageServerAuth) {
		for _, name := range c.DNSNames {
			if err := c.VerifyHostname(name); err != nil {
				t.Errorf("%s %s: %v", s.Name, h.Name, err)
			}
		}
	} else if len(c.DNSNames)+len(c.IPAddresses) > 0 {
		t.Errorf("%s: client certificate with SANs", s.Name)
	}
	if c.IsCA {
		t.Errorf("%s: leaf is a CA", s.Name)
	}
	if d := sanDiff(s, p, h, c); d != "" {
		t.Errorf("%s %s: SANs differ from the rule: %s", s.Name, h.Name, d)
	}
	if c.Subject.CommonName != s.CommonName(h.Name) || !slices.Equal(c.Subject.Organization, s.Orgs) {
		t.Errorf("%s %s: subject %v", s.Name, h.Name, c.Subject)
	}
	_, isRSA := c.PublicKey.(*rsa.PublicKey)
	if want := x509.KeyUsageDigitalSignature; isRSA && c.KeyUsage != want|x509.KeyUsageKeyEncipherment || !isRSA && c.KeyUsage != want {
		t.Errorf("%s %s: key usage %b", s.Name, h.Name, c.KeyUsage)
	}
}

// TestKeyFormats checks the PEM forms kubeadm and cfssl write.
func TestKeyFormats(t *testing.T) {
	tests := []struct {
		alg, keyType string
		check        func(any) bool
	}{
		{RSA, "RSA PRIVATE KEY", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 2048 }},
		{ECDSA, "EC PRIVATE KEY", func(k any) bool { e, ok := k.(*ecdsa.PrivateKey); return ok && e.Curve == elliptic.P256() }},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			b, _ := coldBundle(t, tt.alg)
			for _, s := range []string{CA, ServiceAccountKey, Admin} {
				kp, _ := b.Get(s, "")
				block, _ := pem.Decode(kp.KeyPEM)
				if block == nil || block.Type != tt.keyType {
					t.Fatalf("%s: key PEM type %v", s, block)
				}
				k, _ := parseKey(kp.KeyPEM)
				if !tt.check(k) {
					t.Errorf("%s: wrong key %T", s, k)
				}
			}
			pub, _ := b.ServiceAccount()
			if block, _ := pem.Decode(pub); block == nil || block.Type != "PUBLIC KEY" {
				t.Errorf("sa.pub is not a PUBLIC KEY")
			}
		})
	}
}

// TestHostIsolation checks that a host's material holds none of another
// host's per-host keys or certificates, that every key is distinct, and that
// the etcd and front-proxy CA keys and the admin credential reach no host.
func TestHostIsolation(t *testing.T) {
	b, _ := coldBundle(t, ECDSA)
	p := seedPlan(ECDSA)
	perHost := map[string][][]byte{} // host → its per-host keys and certs
	var allKeys [][]byte
	for _, s := range Table {
		for _, h := range p.Hosts {
			host := ""
			if s.PerHost {
				host = h.Name
			}
			kp, _ := b.Get(s.Name, host)
			if s.PerHost {
				perHost[h.Name] = append(perHost[h.Name], kp.KeyPEM, kp.CertPEM)
			}
			if s.PerHost || h.Index == 0 {
				allKeys = append(allKeys, kp.KeyPEM)
			}
		}
	}
	for i, k := range allKeys {
		for _, o := range allKeys[i+1:] {
			if bytes.Equal(k, o) {
				t.Fatal("two rows share a private key")
			}
		}
	}
	forbidden := [][]byte{}
	for _, s := range []string{EtcdCA, FrontProxyCA, Admin} {
		kp, _ := b.Get(s, "")
		forbidden = append(forbidden, kp.KeyPEM)
	}
	adminCert, _ := b.Get(Admin, "")
	forbidden = append(forbidden, adminCert.CertPEM)
	for _, h := range p.Hosts {
		files, err := b.HostFiles(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			for other, material := range perHost {
				if other == h.Name {
					continue
				}
				for _, m := range material {
					if bytes.Contains(f.Data, m) {
						t.Errorf("%s: %s holds material of %s", h.Name, f.Path, other)
					}
				}
			}
			for _, m := range forbidden {
				if bytes.Contains(f.Data, m) {
					t.Errorf("%s: %s holds a credential that must stay off hosts", h.Name, f.Path)
				}
			}
			isKey := bytes.Contains(f.Data, []byte("PRIVATE KEY"))
			if isKey != (f.Mode == 0o600) {
				t.Errorf("%s: %s mode %o", h.Name, f.Path, f.Mode)
			}
		}
		own, _ := b.Get(EtcdPeer, h.Name)
		if !slices.ContainsFunc(files, func(f HostFile) bool { return bytes.Equal(f.Data, own.KeyPEM) }) {
			t.Errorf("%s: its own etcd peer key is missing from its files", h.Name)
		}
	}
}

// TestColdEvents checks that a cold run issues every row, in table order
// then host order, and that a second cold run with the same clock is
// identical in everything but key material.
func TestColdEvents(t *testing.T) {
	_, events := coldDir(t, ECDSA)
	if len(events) != rows(3)+2 || events[len(events)-2].Spec != EncryptionKeysName || events[len(events)-1].Spec != TokenSecretName {
		t.Fatalf("%d events, want %d, the last two for the encryption keys and the token secret", len(events), rows(3)+2)
	}
	i := 0
	for _, s := range Table {
		hosts := []string{""}
		if s.PerHost {
			hosts = []string{"master0", "master1", "master2"}
		}
		for _, h := range hosts {
			if e := events[i]; e.Action != ActionIssued || e.Spec != s.Name || e.Host != h || e.Reason != "" {
				t.Errorf("event %d: %v, want issued %s %s", i, e, s.Name, h)
			}
			i++
		}
	}
	b2 := New()
	again, err := b2.Complete(seedPlan(ECDSA), Options{Now: fixedNow, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(events, again) {
		t.Error("events depend on parallelism")
	}
	kp, _ := b2.Get(APIServer, "master2")
	if !kp.Cert.NotBefore.Equal(fixedNow.Add(-Backdate)) || kp.Cert.NotBefore.Location() != time.UTC {
		t.Errorf("NotBefore %v", kp.Cert.NotBefore)
	}
}
