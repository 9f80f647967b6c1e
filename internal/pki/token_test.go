package pki

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The delivery serving certificate and token secret exist only for plans
// with delivery.url, name its host, and survive a save and load unchanged.
func TestDelivery(t *testing.T) {
	p := seedPlan(ECDSA)
	p.DeliveryURL = ""
	b := New()
	events, err := b.Complete(p, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Spec == DeliveryServing || e.Spec == TokenSecretName {
			t.Errorf("without delivery.url: %s", e)
		}
	}
	if _, ok := b.Get(DeliveryServing, ""); ok || b.DeliveryTokenSecret() != nil {
		t.Error("without delivery.url the bundle has delivery material")
	}

	for _, tc := range []struct {
		url string
		dns []string
		ip  string
	}{
		{"https://10.22.108.5:8443", nil, "10.22.108.5"},
		{"https://boot.example.internal", []string{"boot.example.internal"}, ""},
	} {
		p := seedPlan(ECDSA)
		p.DeliveryURL = tc.url
		dir := filepath.Join(t.TempDir(), "pki")
		b := New()
		if _, err := b.Complete(p, Options{Now: fixedNow}); err != nil {
			t.Fatal(err)
		}
		kp, ok := b.Get(DeliveryServing, "")
		if !ok {
			t.Fatalf("%s: no serving certificate", tc.url)
		}
		if !slices.Equal(kp.Cert.DNSNames, tc.dns) {
			t.Errorf("%s: DNS SANs %v", tc.url, kp.Cert.DNSNames)
		}
		if tc.ip != "" && (len(kp.Cert.IPAddresses) != 1 || netip.MustParseAddr(tc.ip).Compare(netip.AddrFrom4([4]byte(kp.Cert.IPAddresses[0].To4()))) != 0) {
			t.Errorf("%s: IP SANs %v", tc.url, kp.Cert.IPAddresses)
		}
		secret := b.DeliveryTokenSecret()
		if len(secret) != tokenSecretSize {
			t.Fatalf("secret of %d bytes", len(secret))
		}
		if _, err := b.Save(dir); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, TokenSecretFile))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("token secret file: %v %v", st, err)
		}
		again, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		events, err := again.Complete(p, Options{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if len(eventsWith(events, ActionUsing)) != len(events) || !bytes.Equal(again.DeliveryTokenSecret(), secret) {
			t.Errorf("a re-run changed the delivery material: %v", events)
		}
		if err := os.WriteFile(filepath.Join(dir, TokenSecretFile), []byte("short"), 0o600); err != nil {
			t.Fatal(err)
		}
		broken, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := broken.Complete(p, Options{Now: fixedNow}); err == nil {
			t.Error("a token secret of the wrong size was accepted")
		}
	}
}
