package delivery

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	v34 "github.com/coreos/ignition/v2/config/v3_4"
	v35 "github.com/coreos/ignition/v2/config/v3_5"
	"github.com/kign-project/kign/internal/osvariant"
)

func TestPointer(t *testing.T) {
	ca := testCA(t)
	full := testConfig("master0", 40<<10)
	url := "https://10.22.108.5:8443/ignition/master0.ign"
	token := HostToken([]byte("0123456789abcdef0123456789abcdef"), "master0")
	sum := sha512.Sum512(full)
	wantHash := "sha512-" + hex.EncodeToString(sum[:])

	for _, variant := range []string{"fcos", "flatcar"} {
		t.Run(variant, func(t *testing.T) {
			ptr, err := Pointer(osvariant.MustLookup(variant), url, full, ca, token)
			if err != nil {
				t.Fatal(err)
			}
			if len(ptr) >= MaxUserData {
				t.Errorf("pointer is %d bytes, not under %d", len(ptr), MaxUserData)
			}
			var version, source, hash, hName, hValue, caSource string
			switch variant {
			case "fcos":
				cfg, rpt, err := v35.Parse(ptr)
				if err != nil || len(rpt.Entries) > 0 {
					t.Fatalf("v3_5.Parse: %v %s", err, rpt)
				}
				r := cfg.Ignition.Config.Replace
				version, source, hash = cfg.Ignition.Version, *r.Source, *r.Verification.Hash
				hName, hValue = r.HTTPHeaders[0].Name, *r.HTTPHeaders[0].Value
				caSource = *cfg.Ignition.Security.TLS.CertificateAuthorities[0].Source
			case "flatcar":
				cfg, rpt, err := v34.Parse(ptr)
				if err != nil || len(rpt.Entries) > 0 {
					t.Fatalf("v3_4.Parse: %v %s", err, rpt)
				}
				r := cfg.Ignition.Config.Replace
				version, source, hash = cfg.Ignition.Version, *r.Source, *r.Verification.Hash
				hName, hValue = r.HTTPHeaders[0].Name, *r.HTTPHeaders[0].Value
				caSource = *cfg.Ignition.Security.TLS.CertificateAuthorities[0].Source
			}
			wantVersion := map[string]string{"fcos": "3.5.0", "flatcar": "3.4.0"}[variant]
			if version != wantVersion || source != url || hash != wantHash {
				t.Errorf("version %s source %s hash %s", version, source, hash)
			}
			if hName != "Authorization" || hValue != "Bearer "+token {
				t.Errorf("header %s: %s", hName, hValue)
			}
			b64 := caSource[strings.Index(caSource, "base64,")+len("base64,"):]
			if dec, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Equal(dec, ca) {
				t.Errorf("CA data URL does not hold the CA PEM")
			}
		})
	}
}

// A production-size CA (RSA-2048 as kubeadm makes, with a long subject) still fits AWS's
// user-data limit with room to spare.
func TestPointerSizeWithLargeCA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), IsCA: true, BasicConstraintsValid: true,
		Subject:   pkix.Name{CommonName: "kubernetes", Organization: []string{strings.Repeat("kign ", 20)}},
		NotBefore: time.Now(), NotAfter: time.Now().Add(87600 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ptr, err := Pointer(osvariant.MustLookup("fcos"), "https://kign.example:8443/ignition/master0.ign", []byte(`{"ignition":{"version":"3.5.0"}}`), ca, strings.Repeat("a", 64))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pointer with an RSA-2048 CA: %d bytes (limit %d)", len(ptr), MaxUserData)
	if len(ptr) > MaxUserData/4 {
		t.Errorf("pointer is %d bytes", len(ptr))
	}
}

func TestPointerErrors(t *testing.T) {
	ca := testCA(t)
	full := []byte(`{"ignition":{"version":"3.5.0"}}`)
	tests := []struct {
		name, url, token, variant string
		ca, full                  []byte
		want                      string
	}{
		{"plain http", "http://10.0.0.1/ignition/a.ign", "t", "fcos", ca, full, "https://"},
		{"no host", "https:///a.ign", "t", "fcos", ca, full, "https://"},
		{"empty config", "https://h/a.ign", "t", "fcos", ca, nil, "empty full config"},
		{"empty token", "https://h/a.ign", "", "fcos", ca, full, "token"},
		{"header injection", "https://h/a.ign", "t\r\nX-Evil: 1", "fcos", ca, full, "token"},
		{"not a CA", "https://h/a.ign", "t", "fcos", []byte("hello"), full, "PEM"},
		{"empty CA", "https://h/a.ign", "t", "fcos", nil, full, "empty CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Pointer(osvariant.MustLookup(tc.variant), tc.url, tc.full, tc.ca, tc.token)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHostToken(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := HostToken(secret, "master0")
	tests := []struct {
		name string
		tok  string
		same bool
	}{
		{"stable", HostToken(secret, "master0"), true},
		{"other host", HostToken(secret, "master1"), false},
		{"other secret", HostToken([]byte("another secret, another cluster"), "master0"), false},
	}
	for _, tc := range tests {
		if (tc.tok == a) != tc.same {
			t.Errorf("%s: %s vs %s", tc.name, tc.tok, a)
		}
	}
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("token %q is not 64 hex digits", a)
	}
}

func TestConfigURL(t *testing.T) {
	if got := ConfigURL("https://10.22.108.5:8443/", "master0"); got != "https://10.22.108.5:8443/ignition/master0.ign" {
		t.Fatal(got)
	}
}
