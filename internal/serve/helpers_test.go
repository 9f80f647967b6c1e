package serve

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kign-project/kign/internal/delivery"
)

// testPKI is a throw-away CA and a serving certificate for 127.0.0.1, as
// kign's PKI would issue for delivery.url's host.
type testPKI struct {
	CAPEM, CertPEM, KeyPEM []byte
	pool                   *x509.CertPool
}

func newTestPKI(t testing.TB) testPKI { t.Helper(); return newTestPKIWith(t, false) }

// newTestPKIRSA is newTestPKI with an RSA-2048 serving key.
func newTestPKIRSA(t testing.TB) testPKI { t.Helper(); return newTestPKIWith(t, true) }

func newTestPKIWith(t testing.TB, rsaKey bool) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	var key crypto.Signer
	var err2 error
	if rsaKey {
		key, err2 = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err2 = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kign-serve"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pool:    x509.NewCertPool(),
	}
	p.pool.AddCert(ca)
	return p
}

// client trusts only the test CA.
func (p testPKI) client(keepAlive bool) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: 64,
		},
	}
}

var testSecret = []byte("kign-test-delivery-secret-0123456789")

// testHosts returns n hosts with distinct configs, tokens and MACs.
func testHosts(n, configSize int) []Host {
	var hosts []Host
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("master%d", i)
		pad := bytes.Repeat([]byte{byte('a' + i%26)}, configSize)
		hosts = append(hosts, Host{
			Name:  name,
			MAC:   fmt.Sprintf("52:54:ab:cd:%02x:%02x", i/256, i%256),
			Token: delivery.HostToken(testSecret, name),
			Ignition: []byte(`{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/etc/kign-test/` + name +
				`","mode":384,"contents":{"source":"data:,` + string(pad) + `"}}]}}`),
			IPXE: []byte("#!ipxe\n# " + name + "\nboot\n"),
		})
	}
	return hosts
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a server on 127.0.0.1 (never another address) and returns its
// base URL; the server stops when the test ends.
func start(t testing.TB, cfg Config) (*Server, string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, "https://" + ln.Addr().String(), logs
}
