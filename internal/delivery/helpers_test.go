package delivery

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/plan"
)

// run runs a command and returns its stdout, failing the test on error.
func run(t *testing.T, dir string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// testCA returns a throw-away self-signed CA certificate in PEM.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubernetes"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func testPlan(os string) *plan.Plan {
	img, err := images.Lookup(os, "", "", "amd64", "")
	if err != nil {
		panic(err)
	}
	return &plan.Plan{
		ClusterName: "seed",
		OS:          osvariant.MustLookup(os),
		Image:       img,
		Hosts: []plan.Host{
			{Index: 0, Name: "master0", IP: netip.MustParseAddr("10.22.108.20"), MAC: "52:54:00:00:00:01", InstallDisk: "/dev/sda"},
			{Index: 1, Name: "master1", IP: netip.MustParseAddr("10.22.108.79"), MAC: "52:54:00:00:00:02", InstallDisk: "/dev/disk/by-id/wwn-0x5000c500a0b1c2d3"},
		},
	}
}

func testImage(t *testing.T, os string) images.Image {
	t.Helper()
	img, err := images.Lookup(os, "stable", "", "amd64", "")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// testConfig is a small valid spec 3.5.0 config carrying a fake key, padded
// to about size bytes with incompressible-looking text.
func testConfig(host string, size int) []byte {
	pad := make([]byte, 0, size)
	for i := 0; len(pad) < size; i++ {
		pad = append(pad, "0123456789abcdefghijklmnopqrstuvwxyz"[(i*7919+i/13)%36])
	}
	return []byte(`{"ignition":{"version":"3.5.0"},"storage":{"files":[{"path":"/etc/kubernetes/pki/` + host +
		`.key","mode":384,"contents":{"source":"data:,` + string(pad) + `"}}]}}`)
}
