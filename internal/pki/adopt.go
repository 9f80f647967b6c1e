package pki

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

// Adopt makes an existing certificate authority the bundle's CA named by
// alias (kubernetes, etcd or front-proxy; see CAByAlias), in memory. The
// seed guide's `cfssl gencert -initca` output (ca.pem, ca-key.pem) works
// as it is, and the same pair may be adopted for several CAs.
//
// The certificate must be a CA with the cert-sign key usage and the key
// must match it. When the bundle already holds a different certificate for
// that CA, Adopt fails unless force: Save then keeps the replaced files as
// FILE.replaced-<time>, and every certificate the old CA signed must be
// re-issued (Complete with Options.ForceReissue).
func (b *Bundle) Adopt(alias string, certPEM, keyPEM []byte, force bool) (Event, error) {
	s, ok := CAByAlias(alias)
	if !ok {
		return Event{}, fmt.Errorf("unknown CA %q (want kubernetes, etcd or front-proxy)", alias)
	}
	if n := countPEM(certPEM, "CERTIFICATE"); n != 1 {
		return Event{}, fmt.Errorf("%s CA: want exactly one PEM certificate, found %d", alias, n)
	}
	e := &entry{spec: s}
	e.set(certPEM, keyPEM)
	if e.certErr != nil {
		return Event{}, fmt.Errorf("%s CA certificate: %w", alias, e.certErr)
	}
	if e.keyErr != nil {
		return Event{}, fmt.Errorf("%s CA key: %w", alias, e.keyErr)
	}
	if err := validCA(e.parsed, e.signer); err != nil {
		return Event{}, fmt.Errorf("%s CA: %w", alias, err)
	}
	ev := Event{Action: ActionAdopted, Spec: s.Name, Reason: describe(e)}
	if old := b.get(s.Name, ""); old != nil {
		if old.parsed != nil && old.signer != nil && bytes.Equal(old.parsed.Raw, e.parsed.Raw) && keyMatches(old.signer, e.parsed.PublicKey) {
			return Event{Action: ActionUsing, Spec: s.Name, Reason: "already this bundle's " + s.Name}, nil
		}
		certRel, _ := s.BundlePaths("")
		if !force {
			return Event{}, fmt.Errorf("the bundle already has a different %s (%s); --force replaces it, keeping the old files as *.replaced-<time>; every certificate it signed must then be re-issued (%s)", s.Name, certRel, renewCommand)
		}
		e.onDiskCert, e.onDiskKey, e.replace = old.onDiskCert, old.onDiskKey, true
		ev.Reason += ", replacing the previous " + s.Name
	}
	for _, other := range Table {
		if o := b.get(other.Name, ""); other.Kind == KindCA && other.Name != s.Name && o != nil && o.parsed != nil && bytes.Equal(o.parsed.Raw, e.parsed.Raw) {
			ev.Reason += fmt.Sprintf("; same CA as %s: whoever holds a certificate from one is trusted by the other's servers", other.Name)
		}
	}
	b.put(e)
	return ev, nil
}

// describe summarizes a CA for an event: its subject and expiry.
func describe(e *entry) string {
	c := e.parsed
	return fmt.Sprintf("%s, %s, expires %s", subject(c.Subject.CommonName, c.Subject.Organization), keyAlgorithm(c.PublicKey), c.NotAfter.Format(time.DateOnly))
}

func countPEM(data []byte, typ string) int {
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return n
		}
		if strings.EqualFold(block.Type, typ) {
			n++
		}
	}
}
