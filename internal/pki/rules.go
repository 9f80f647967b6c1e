package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kign-project/kign/internal/plan"
)

// renewCommand is what the mismatch errors tell the operator to run.
const renewCommand = "kign certs renew --hosts FILE --force-reissue"

// checkCA decides about a CA row: issue it when the bundle has neither its
// certificate nor its key, reuse it when both are there and sound, and fail
// otherwise: kign never replaces a CA implicitly.
func checkCA(e *entry, now time.Time) (issue bool, err error) {
	if e == nil {
		return true, nil
	}
	certRel, keyRel := e.spec.BundlePaths("")
	fail := func(format string, args ...any) (bool, error) {
		return false, fmt.Errorf("%s CA (%s, %s): %s", e.spec.Name, certRel, keyRel, fmt.Sprintf(format, args...))
	}
	switch {
	case e.cert == nil:
		return fail("%s is missing but %s exists; kign never replaces a CA: restore %s, or adopt one with kign certs adopt", certRel, keyRel, certRel)
	case e.key == nil:
		return fail("%s is missing but %s exists; kign needs the CA key to sign: restore %s, or adopt a CA with kign certs adopt", keyRel, certRel, keyRel)
	case e.certErr != nil:
		return fail("%s: %v", certRel, e.certErr)
	case e.keyErr != nil:
		return fail("%s: %v", keyRel, e.keyErr)
	}
	if err := validCA(e.parsed, e.signer); err != nil {
		return fail("%v", err)
	}
	if now.After(e.parsed.NotAfter) {
		return fail("expired on %s; kign never replaces a CA: adopt a new one with kign certs adopt --force, then %s",
			e.parsed.NotAfter.Format(time.DateOnly), renewCommand)
	}
	return false, nil
}

// validCA checks what adopting or using a CA requires.
func validCA(cert *x509.Certificate, key crypto.Signer) error {
	switch {
	case !cert.IsCA || !cert.BasicConstraintsValid:
		return fmt.Errorf("certificate %q is not a CA (basic constraints CA:FALSE)", cert.Subject.CommonName)
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return fmt.Errorf("certificate %q lacks the key usage cert sign", cert.Subject.CommonName)
	}
	if !keyMatches(key, cert.PublicKey) {
		return fmt.Errorf("the key does not match the certificate %q", cert.Subject.CommonName)
	}
	return nil
}

// checkKeyPair decides about the service-account key: issue it when absent,
// otherwise keep it (replacing it would invalidate every service-account token).
func checkKeyPair(e *entry) (issue bool, reason string, err error) {
	if e == nil {
		return true, "", nil
	}
	pubRel, keyRel := e.spec.BundlePaths("")
	switch {
	case e.key == nil:
		return false, "", fmt.Errorf("%s exists but %s is missing; restore %s (a new key would invalidate every service-account token)", pubRel, keyRel, keyRel)
	case e.keyErr != nil:
		return false, "", fmt.Errorf("%s: %v", keyRel, e.keyErr)
	}
	if e.cert == nil {
		return false, "derived the missing " + pubRel + " from " + keyRel, nil // by Complete, once nothing failed
	}
	if p, err := parsePublic(e.cert); err != nil || !keyMatches(e.signer, p) {
		return false, "", fmt.Errorf("%s does not match %s; remove %s and kign derives it from the key", pubRel, keyRel, pubRel)
	}
	return false, "", nil
}

// foreignError is a certificate its CA's current certificate did not sign.
type foreignError struct{ ca, file string }

func (e foreignError) Error() string { return e.file + " is not signed by the current " + e.ca }

// foreignErrors turns the foreign certificates of each CA into one error
// per CA that names the files and the way out.
func foreignErrors(found []foreignError, newCA map[string]bool) []error {
	var errs []error
	for _, s := range Table {
		var files []string
		for _, f := range found {
			if f.ca == s.Name {
				files = append(files, f.file)
			}
		}
		if len(files) == 0 {
			continue
		}
		caRel, _ := s.BundlePaths("")
		what := "did not sign"
		if newCA[s.Name] {
			what = "is missing, so a new one would be created, but the bundle holds certificates of the old one"
		}
		errs = append(errs, fmt.Errorf("%s (%s) %s: %s; the CA was replaced or these files belong to another bundle, and kign never re-issues them silently: run %s to re-issue them with the current CA, or remove them",
			s.Name, caRel, what, strings.Join(files, ", "), renewCommand))
	}
	return errs
}

// checkLeaf decides about one certificate. ca is the current certificate of
// its CA, nil when that CA is issued in this run. A leaf that does not
// verify against ca is an error unless o.ForceReissue; any other defect
// re-issues it with a reason.
func checkLeaf(s Spec, p *plan.Plan, h plan.Host, e *entry, ca *x509.Certificate, alg string, now time.Time, o Options) (issue bool, reason string, err error) {
	if e == nil {
		return true, "", nil
	}
	certRel, keyRel := s.BundlePaths(h.Name)
	switch {
	case e.cert == nil:
		return true, certRel + " missing", nil
	case e.key == nil:
		return true, keyRel + " missing", nil
	case e.certErr != nil:
		return true, "unreadable certificate: " + e.certErr.Error(), nil
	case e.keyErr != nil:
		return true, "unreadable key: " + e.keyErr.Error(), nil
	case !keyMatches(e.signer, e.parsed.PublicKey):
		return true, "key does not match certificate", nil
	}
	c := e.parsed
	if ca == nil || c.CheckSignatureFrom(ca) != nil {
		if o.ForceReissue {
			return true, "not signed by the current " + s.CA, nil
		}
		return false, "", foreignError{ca: s.CA, file: certRel}
	}
	if now.After(c.NotAfter) {
		return true, "expired on " + c.NotAfter.Format(time.DateOnly), nil
	}
	if now.Before(c.NotBefore) {
		return true, "not valid before " + c.NotBefore.Format(time.RFC3339), nil
	}
	if got, want := keyAlgorithm(c.PublicKey), s.keyAlgorithmFor(alg); got != want {
		return true, "key algorithm " + got + ", plan wants " + want, nil
	}
	wantCN, wantO := s.CommonName(h.Name), slices.Sorted(slices.Values(s.Orgs))
	gotO := slices.Sorted(slices.Values(c.Subject.Organization))
	if c.Subject.CommonName != wantCN || !slices.Equal(gotO, wantO) {
		return true, fmt.Sprintf("subject changed: %s → %s", subject(c.Subject.CommonName, gotO), subject(wantCN, wantO)), nil
	}
	if !sameUsages(c.ExtKeyUsage, s.Usages) {
		return true, "usages changed", nil
	}
	if d := sanDiff(s, p, h, c); d != "" {
		return true, "SANs changed: " + d, nil
	}
	switch {
	case o.RenewAll:
		return true, "renewal requested", nil
	case o.RenewWithin > 0 && c.NotAfter.Sub(now) <= o.RenewWithin:
		return true, fmt.Sprintf("expires on %s, within %s", c.NotAfter.Format(time.DateOnly), days(o.RenewWithin)), nil
	}
	return false, "", nil
}

func subject(cn string, orgs []string) string {
	s := "CN=" + cn
	for _, o := range orgs {
		s += ",O=" + o
	}
	return s
}

func sameUsages(got, want []x509.ExtKeyUsage) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(slices.Compact(g), slices.Compact(w))
}

// certSANs returns a certificate's SANs as strings, sorted: DNS names lower
// case, IPs in netip form, then e-mail addresses and URIs (kign never
// issues those, so they always count as a difference).
func certSANs(c *x509.Certificate) []string {
	var ips []netip.Addr
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			ips = append(ips, a)
		}
	}
	out := normDNS(c.DNSNames)
	for _, a := range normIPs(ips) {
		out = append(out, a.String())
	}
	out = append(out, c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// sanDiff lists what the plan adds (+) to and removes (-) from c's SANs.
func sanDiff(s Spec, p *plan.Plan, h plan.Host, c *x509.Certificate) string {
	dns, ips := s.WantSANs(p, h)
	want := slices.Clone(dns)
	for _, a := range ips {
		want = append(want, a.String())
	}
	got := certSANs(c)
	var d []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			d = append(d, "+"+w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			d = append(d, "-"+g)
		}
	}
	return strings.Join(d, " ")
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}
