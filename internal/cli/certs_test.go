package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/initca"
)

// kign certs on a generated bundle, with a fixed clock: check passes now and
// fails near expiry; renew re-issues leaves only; adopt takes a CA made the
// way the seed guide makes it (cfssl initca, CN kubernetes, O KUBERNETES).
func TestCerts(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/five/hosts.yaml")
	pkiDir := filepath.Join(dir, "pki")

	// Adopt first, into an empty bundle: the guide's single CA for both.
	req := &csr.CertificateRequest{CN: "kubernetes", KeyRequest: &csr.KeyRequest{A: "ecdsa", S: 256}, Names: []csr.Name{{O: "KUBERNETES"}}}
	certPEM, _, keyPEM, err := initca.New(req)
	if err != nil {
		t.Fatal(err)
	}
	caFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := kign(t, "certs", "adopt", "--pki", pkiDir, "--ca", "kubernetes,etcd", "--cert", caFile, "--key", keyFile)
	if code != ExitOK || !strings.Contains(stdout, "[pki] adopted") {
		t.Fatalf("adopt: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kign(t, "gen", "--hosts", hosts, "-o", filepath.Join(dir, "out"), "--now", "2026-11-01T12:00:00Z")
	if code != ExitOK || !strings.Contains(stdout, "[pki] using existing ca") || !strings.Contains(stdout, "[pki] using existing etcd-ca") {
		t.Fatalf("gen after adopt: exit %d\n%s%s", code, stdout, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(pkiDir, "ca.crt")); string(got) != string(certPEM) {
		t.Error("the adopted CA was not kept")
	}

	code, stdout, stderr = kign(t, "certs", "check", "--pki", pkiDir, "--now", "2026-11-02T00:00:00Z")
	if code != ExitOK || !strings.Contains(stdout, "etcd-peer") || !strings.Contains(stdout, "cp-e") {
		t.Errorf("check now: exit %d\n%s%s", code, stdout, stderr)
	}
	// Leaves last a year: three weeks before that, check fails (30-day threshold).
	code, stdout, stderr = kign(t, "certs", "check", "--pki", pkiDir, "--now", "2027-10-10T00:00:00Z")
	if code != ExitFailure {
		t.Errorf("check near expiry: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kign(t, "certs", "renew", "--hosts", hosts, "--now", "2027-10-10T00:00:00Z")
	if code != ExitOK || !strings.Contains(stdout, "[pki] re-issued etcd-peer for cp-a") || strings.Contains(stdout, "re-issued ca") {
		t.Errorf("renew: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = kign(t, "certs", "check", "--pki", pkiDir, "--now", "2027-10-10T00:00:00Z")
	if code != ExitOK {
		t.Errorf("check after renew: exit %d\n%s%s", code, stdout, stderr)
	}
}

// gen says which certificates expire within 30 days and how to renew them.
func TestGenWarnsOfExpiringCertificates(t *testing.T) {
	dir, hosts := inventoryCopy(t, "../../examples/seed/hosts.yaml")
	pkiDir := filepath.Join(dir, "pki")
	if err := os.CopyFS(pkiDir, os.DirFS("../gen/testdata/seed/pki")); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(pkiDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	// The kept bundle's leaves were issued 2026-11-01 for a year.
	code, _, stderr := kign(t, "gen", "--hosts", hosts, "--pki", pkiDir, "-o", filepath.Join(dir, "out"), "--now", "2027-10-20T00:00:00Z")
	if code != ExitOK {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"warning: apiserver for master0 expires on 2027-11-01, within 720h: renew it with kign certs renew --hosts " + hosts,
		"warning: admin expires on 2027-11-01",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "warning: ca expires") {
		t.Errorf("a CA valid for years is reported:\n%s", stderr)
	}
}
