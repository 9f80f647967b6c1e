package pki

import (
	"time"
)

// Certificate states reported by Check.
const (
	StateOK       = "ok"
	StateExpiring = "expiring"
	StateExpired  = "expired"
	StateInvalid  = "invalid"
)

// Status describes one row of the bundle for `kign certs check`.
type Status struct {
	Spec    string
	Host    string // "" for cluster-wide rows
	Kind    Kind
	Subject string   // CN=...,O=...
	SANs    []string // sorted DNS names, then IPs
	// NotAfter is zero for the service-account key pair, which does not expire.
	NotAfter time.Time
	// Left is NotAfter minus the check's clock; negative once expired.
	Left  time.Duration
	State string // StateOK, StateExpiring, StateExpired or StateInvalid
	// Problem says what is wrong when State is not StateOK.
	Problem string
}

// Bad reports whether the row needs attention.
func (s Status) Bad() bool { return s.State != StateOK }

// Check lists every row the bundle holds, in table order then host order,
// hosts no longer in the plan included. A row is expired when NotAfter is
// before now, expiring when it is within of now, invalid when a file is
// missing or unreadable, its key does not match, or it is not signed by its
// CA's current certificate.
func (b *Bundle) Check(now time.Time, within time.Duration) []Status {
	var out []Status
	b.each(func(e *entry) {
		st := Status{Spec: e.spec.Name, Host: e.host, Kind: e.spec.Kind, State: StateOK}
		certRel, keyRel := e.spec.BundlePaths(e.host)
		invalid := func(why string) {
			st.State, st.Problem = StateInvalid, why
		}
		if e.spec.Kind == KindKeyPair {
			_, _, err := checkKeyPair(&entry{spec: e.spec, cert: e.cert, key: e.key, signer: e.signer, keyErr: e.keyErr})
			if err != nil {
				invalid(err.Error())
			}
			out = append(out, st)
			return
		}
		switch {
		case e.cert == nil:
			invalid(certRel + " missing")
		case e.certErr != nil:
			invalid(certRel + ": " + e.certErr.Error())
		}
		if st.State != StateOK {
			out = append(out, st)
			return
		}
		c := e.parsed
		st.Subject = subject(c.Subject.CommonName, c.Subject.Organization)
		st.SANs = certSANs(c)
		st.NotAfter = c.NotAfter
		st.Left = c.NotAfter.Sub(now)
		switch {
		case e.key == nil:
			invalid(keyRel + " missing")
		case e.keyErr != nil:
			invalid(keyRel + ": " + e.keyErr.Error())
		case !keyMatches(e.signer, c.PublicKey):
			invalid(keyRel + " does not match " + certRel)
		case e.spec.Kind == KindLeaf && !signedByCurrentCA(b, e):
			invalid("not signed by the current " + e.spec.CA)
		case now.After(c.NotAfter):
			st.State, st.Problem = StateExpired, "expired on "+c.NotAfter.Format(time.DateOnly)
		case st.Left <= within:
			st.State, st.Problem = StateExpiring, "expires on "+c.NotAfter.Format(time.DateOnly)
			if e.spec.Kind == KindCA {
				st.Problem += "; kign certs renew never renews a CA"
			}
		}
		out = append(out, st)
	})
	return out
}

func signedByCurrentCA(b *Bundle, e *entry) bool {
	ca := b.get(e.spec.CA, "")
	return ca != nil && ca.parsed != nil && e.parsed.CheckSignatureFrom(ca.parsed) == nil
}
