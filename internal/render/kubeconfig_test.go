package render

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// testCert returns a self-signed certificate and its key, PEM-encoded.
func testCert(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestKubeconfig(t *testing.T) {
	ca, _ := testCert(t, "kubernetes")
	cert, key := testCert(t, "system:node:master1")
	data, err := Kubeconfig("test", "https://10.0.0.100:6443", ca, "system:node:master1", cert, key)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Kubeconfig("test", "https://10.0.0.100:6443", ca, "system:node:master1", cert, key)
	if string(again) != string(data) {
		t.Error("two renderings differ")
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	const ctx = "system:node:master1@test"
	if cfg.CurrentContext != ctx || len(cfg.Contexts) != 1 || len(cfg.Clusters) != 1 || len(cfg.AuthInfos) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	c := cfg.Contexts[ctx]
	if c == nil || c.Cluster != "test" || c.AuthInfo != "system:node:master1" {
		t.Fatalf("context %+v", c)
	}
	cl := cfg.Clusters["test"]
	if cl.Server != "https://10.0.0.100:6443" || string(cl.CertificateAuthorityData) != string(ca) || cl.CertificateAuthority != "" {
		t.Errorf("cluster %+v", cl)
	}
	u := cfg.AuthInfos["system:node:master1"]
	if string(u.ClientCertificateData) != string(cert) || string(u.ClientKeyData) != string(key) || u.ClientCertificate != "" {
		t.Errorf("user %+v", u)
	}
	// The result is usable as a client config.
	if _, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig(); err != nil {
		t.Errorf("client config: %v", err)
	}
}

func TestKubeconfigRejects(t *testing.T) {
	ca, _ := testCert(t, "kubernetes")
	cert, key := testCert(t, "u")
	tests := []struct {
		name                   string
		cluster, server, user  string
		caPEM, certPEM, keyPEM []byte
		want                   string
	}{
		{"no cluster", "", "https://x:6443", "u", ca, cert, key, "cluster"},
		{"no server", "c", "", "u", ca, cert, key, "server"},
		{"no user", "c", "https://x:6443", "", ca, cert, key, "user"},
		{"CA not PEM", "c", "https://x:6443", "u", []byte("nope"), cert, key, "CA certificate"},
		{"key is a certificate", "c", "https://x:6443", "u", ca, cert, cert, "client key"},
		{"cert is a key", "c", "https://x:6443", "u", ca, key, key, "client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Kubeconfig(tt.cluster, tt.server, tt.caPEM, tt.user, tt.certPEM, tt.keyPEM)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
