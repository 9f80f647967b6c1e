package pki

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/cloudflare/cfssl/config"
	"github.com/cloudflare/cfssl/csr"
	"github.com/cloudflare/cfssl/initca"
	cflog "github.com/cloudflare/cfssl/log"
	"github.com/cloudflare/cfssl/signer"
	"github.com/cloudflare/cfssl/signer/local"

	"github.com/kign-project/kign/internal/plan"
)

// Backdate is subtracted from Options.Now for every NotBefore of a run,
// cfssl's default backdate: a host whose clock is a little behind the
// operator's still accepts the certificates on first boot.
const Backdate = 5 * time.Minute

func init() {
	// cfssl logs every CSR and signature at info level on stderr; kign
	// prints its own event lines instead.
	cflog.Level = cflog.LevelError
}

// newCA makes a self-signed CA with cfssl, the way `cfssl gencert -initca`
// does (initca.NewFromSigner), but with the run's fixed NotBefore and an
// explicit expiry: initca's default policy is 5 years (43800h), kign's
// default 10 (pki.caValidity).
func newCA(s Spec, key crypto.Signer, notBefore, notAfter time.Time) ([]byte, error) {
	req := &csr.CertificateRequest{
		CN:    s.CommonName(""),
		Names: names(s.Orgs),
		CA:    &csr.CAConfig{Expiry: notAfter.Sub(notBefore).String()},
	}
	csrPEM, err := csr.Generate(key, req)
	if err != nil {
		return nil, fmt.Errorf("%s: CSR: %w", s.Name, err)
	}
	policy := initca.CAPolicy()
	policy.Default.Expiry = notAfter.Sub(notBefore)
	policy.Default.ExpiryString = policy.Default.Expiry.String()
	sg, err := local.NewSigner(key, nil, signer.DefaultSigAlgo(key), policy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	cert, err := sg.Sign(signer.SignRequest{Request: string(csrPEM), NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		return nil, fmt.Errorf("%s: signing: %w", s.Name, err)
	}
	return cert, nil
}

// job is one row for one host that needs a new key.
type job struct {
	spec   Spec
	host   plan.Host
	old    *entry // what the bundle held before, nil if nothing
	cert   []byte
	keyPEM []byte
}

// run holds the parameters of one Complete run.
type run struct {
	alg                      string
	par                      int
	now                      time.Time
	caValidity, certValidity time.Duration
}

// caSlot is a CA the run signs with; ready is closed once e or err is set.
type caSlot struct {
	ready chan struct{}
	e     *entry
	err   error
}

// issue makes the jobs, CAs first (table order), on r.par workers: each
// worker generates a job's key and at once signs its certificate, so that
// signing overlaps key generation and no core idles until the last key.
// A leaf whose CA is new waits for it; CA jobs come first in the queue, so
// the CA is already in a worker's hands and the wait is short and cannot
// deadlock. The bundle changes only when every job succeeded.
func (b *Bundle) issue(p *plan.Plan, jobs []*job, r run) error {
	notBefore := r.now.Add(-Backdate)
	cas := map[string]*caSlot{}
	for _, s := range Table {
		if s.Kind == KindCA {
			c := &caSlot{ready: make(chan struct{}), e: b.get(s.Name, "")}
			if c.e != nil {
				close(c.ready)
			}
			cas[s.Name] = c
		}
	}
	errs := make([]error, len(jobs))
	parallel(len(jobs), r.par, func(i int) {
		j := jobs[i]
		var ca *caSlot
		if j.spec.Kind == KindCA {
			ca = cas[j.spec.Name]
			defer close(ca.ready)
		}
		err := j.make(p, r, notBefore, cas)
		if err != nil {
			errs[i] = fmt.Errorf("%s %s: %w", j.spec.Name, j.host.Name, err)
		}
		if ca != nil {
			ca.err = errs[i]
			ca.e = &entry{spec: j.spec}
			ca.e.set(j.cert, j.keyPEM)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, j := range jobs {
		e := &entry{spec: j.spec, host: j.host.Name}
		if j.old != nil {
			e.onDiskCert, e.onDiskKey = j.old.onDiskCert, j.old.onDiskKey
		}
		e.set(j.cert, j.keyPEM)
		b.put(e)
	}
	return nil
}

// make generates the job's key and its certificate (public key for the key pair).
func (j *job) make(p *plan.Plan, r run, notBefore time.Time, cas map[string]*caSlot) error {
	key, err := GenerateKey(j.spec.keyAlgorithmFor(r.alg))
	if err != nil {
		return err
	}
	if j.keyPEM, err = marshalKey(key); err != nil {
		return err
	}
	switch j.spec.Kind {
	case KindCA:
		j.cert, err = newCA(j.spec, key, notBefore, r.now.Add(r.caValidity))
		return err
	case KindKeyPair:
		j.cert, err = marshalPublic(key.Public())
		return err
	}
	ca := cas[j.spec.CA]
	<-ca.ready
	if ca.err != nil || ca.e.parsed == nil || ca.e.signer == nil {
		return fmt.Errorf("its CA %s could not be made", j.spec.CA)
	}
	dns, ips := j.spec.WantSANs(p, j.host)
	j.cert, err = signLeaf(leafRequest{
		spec: j.spec, cn: j.spec.CommonName(j.host.Name), dns: dns, ips: ips, key: key,
		ca: ca.e.parsed, caKey: ca.e.signer, notBefore: notBefore, notAfter: r.now.Add(r.certValidity),
	})
	return err
}

// leafRequest is everything signLeaf needs for one certificate.
type leafRequest struct {
	spec      Spec
	cn        string
	dns       []string
	ips       []netip.Addr
	key       crypto.Signer
	ca        *x509.Certificate
	caKey     crypto.Signer
	notBefore time.Time
	notAfter  time.Time
}

// signLeaf makes the CSR with cfssl's csr package from the leaf's own key
// and signs it with cfssl's local signer under a one-profile policy that
// carries exactly the row's usages.
func signLeaf(r leafRequest) ([]byte, error) {
	hosts := make([]string, 0, len(r.dns)+len(r.ips))
	hosts = append(hosts, r.dns...)
	for _, ip := range r.ips {
		hosts = append(hosts, ip.String())
	}
	csrPEM, err := csr.Generate(r.key, &csr.CertificateRequest{CN: r.cn, Names: names(r.spec.Orgs), Hosts: hosts})
	if err != nil {
		return nil, fmt.Errorf("CSR: %w", err)
	}
	if r.notAfter.After(r.ca.NotAfter) {
		r.notAfter = r.ca.NotAfter // a certificate cannot outlive its CA
	}
	policy := &config.Signing{Default: &config.SigningProfile{
		Usage:        usageStrings(r.spec.Usages, r.key),
		Expiry:       r.notAfter.Sub(r.notBefore),
		ExpiryString: r.notAfter.Sub(r.notBefore).String(),
	}}
	sg, err := local.NewSigner(r.caKey, r.ca, signer.DefaultSigAlgo(r.caKey), policy)
	if err != nil {
		return nil, err
	}
	return sg.Sign(signer.SignRequest{Request: string(csrPEM), NotBefore: r.notBefore, NotAfter: r.notAfter})
}

// usageStrings are the cfssl profile usages of a leaf: digital signature,
// key encipherment for RSA keys only (an ECDSA key cannot encipher; this is
// what Kubernetes' own certificate helpers do), and the extended usages.
func usageStrings(ext []x509.ExtKeyUsage, key crypto.Signer) []string {
	out := []string{"digital signature"}
	if _, ok := key.(*rsa.PrivateKey); ok {
		out = append(out, "key encipherment")
	}
	for _, u := range ext {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "server auth")
		case x509.ExtKeyUsageClientAuth:
			out = append(out, "client auth")
		}
	}
	return out
}

func names(orgs []string) []csr.Name {
	var out []csr.Name
	for _, o := range orgs {
		out = append(out, csr.Name{O: o})
	}
	return out
}
