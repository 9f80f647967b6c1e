package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kign-project/kign/internal/plan"
)

// Options controls one Complete run.
type Options struct {
	// Now is the run's clock: every certificate issued in the run has
	// NotBefore Now-Backdate and NotAfter Now+validity, and "expired" means
	// expired at Now. Zero means time.Now().
	Now time.Time
	// Parallelism is how many keys are generated at once; 0 means GOMAXPROCS.
	Parallelism int
	// RenewWithin re-issues every leaf that expires within this duration of Now.
	RenewWithin time.Duration
	// RenewAll re-issues every leaf (never a CA or the service-account key).
	RenewAll bool
	// ForceReissue re-issues leaves that do not verify against their CA's
	// current certificate instead of failing (after a CA was replaced).
	ForceReissue bool
}

// Event actions.
const (
	ActionUsing    = "using existing"
	ActionIssued   = "issued"
	ActionReissued = "re-issued"
	ActionAdopted  = "adopted"
)

// Event is one thing Complete or Adopt did to one row for one host.
type Event struct {
	Action string // ActionUsing, ActionIssued, ActionReissued or ActionAdopted
	Spec   string
	Host   string // "" for cluster-wide rows
	Reason string // why it was re-issued; may be empty
}

// String is the tagged progress line: "[pki] issued etcd-peer for master3",
// "[pki] re-issued apiserver for master0 (SANs changed: +10.0.0.9)".
func (e Event) String() string {
	var b strings.Builder
	b.WriteString("[pki] ")
	b.WriteString(e.Action)
	b.WriteString(" ")
	b.WriteString(e.Spec)
	if e.Host != "" {
		b.WriteString(" for ")
		b.WriteString(e.Host)
	}
	if e.Reason != "" {
		b.WriteString(" (")
		b.WriteString(e.Reason)
		b.WriteString(")")
	}
	return b.String()
}

// Complete brings the bundle in line with the plan, in memory: it reuses
// every CA, the service-account key and every certificate that is still
// valid and still matches p, and issues what is missing or no longer
// matches (see the package comment for the rules). It returns one event per
// row and host, in table order then host order. On error the bundle is unchanged.
func (b *Bundle) Complete(p *plan.Plan, o Options) ([]Event, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	alg := p.PKI.KeyAlgorithm
	if alg == "" {
		alg = RSA
	}
	if alg != RSA && alg != ECDSA {
		return nil, fmt.Errorf("pki.keyAlgorithm %q: want %s or %s", alg, RSA, ECDSA)
	}
	caValidity, certValidity := p.PKI.CAValidity, p.PKI.CertValidity
	if caValidity <= 0 {
		caValidity = plan.DefaultCAValidity
	}
	if certValidity <= 0 {
		certValidity = plan.DefaultCertValidity
	}
	if err := checkHostNames(p); err != nil {
		return nil, err
	}

	var (
		events []Event
		jobs   []*job
		errs   []error
		newCA  = map[string]bool{} // CA rows issued in this run
		badCA  = map[string]bool{} // CA rows that failed their checks
		// foreign are the leaves their CA's current certificate did not sign.
		foreign []foreignError
	)
	for _, s := range Table {
		if s.When != nil && !s.When(p) {
			continue
		}
		hosts := []plan.Host{{}}
		if s.PerHost {
			hosts = p.Hosts
		}
		for _, h := range hosts {
			e := b.get(s.Name, h.Name)
			ev := Event{Spec: s.Name, Host: h.Name}
			var issue bool
			var err error
			switch s.Kind {
			case KindCA:
				issue, err = checkCA(e, now)
				newCA[s.Name] = issue
				badCA[s.Name] = err != nil
			case KindKeyPair:
				issue, ev.Reason, err = checkKeyPair(e)
			default:
				if badCA[s.CA] {
					continue
				}
				var ca *x509.Certificate
				if !newCA[s.CA] {
					ca = b.get(s.CA, "").parsed
				}
				issue, ev.Reason, err = checkLeaf(s, p, h, e, ca, alg, now, o)
			}
			var fe foreignError
			if errors.As(err, &fe) {
				foreign = append(foreign, fe)
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			switch {
			case !issue:
				ev.Action = ActionUsing
			case e == nil:
				ev.Action = ActionIssued
			default:
				ev.Action = ActionReissued
			}
			events = append(events, ev)
			if issue {
				jobs = append(jobs, &job{spec: s, host: h, old: e})
			}
		}
	}
	errs = append(errs, foreignErrors(foreign, newCA)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if e := b.get(ServiceAccountKey, ""); e != nil && e.cert == nil && e.signer != nil {
		pub, err := marshalPublic(e.signer.Public())
		if err != nil {
			return nil, err
		}
		e.cert = pub
	}
	if err := b.issue(p, jobs, run{alg: alg, par: o.Parallelism, now: now, caValidity: caValidity, certValidity: certValidity}); err != nil {
		return nil, err
	}
	b.orderHosts(p)
	ev, err := b.completeEncryptionKeys()
	if err != nil {
		return nil, err
	}
	events = append(events, ev)
	if p.DeliveryURL != "" {
		ev, err := b.completeTokenSecret()
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// orderHosts puts the plan's hosts first, in inventory order, then the others sorted.
func (b *Bundle) orderHosts(p *plan.Plan) {
	var order []string
	for _, h := range p.Hosts {
		if slices.Contains(b.hosts, h.Name) {
			order = append(order, h.Name)
		}
	}
	var rest []string
	for _, h := range b.hosts {
		if !slices.Contains(order, h) {
			rest = append(rest, h)
		}
	}
	slices.Sort(rest)
	b.hosts = append(order, rest...)
}

func checkHostNames(p *plan.Plan) error {
	seen := map[string]bool{}
	for _, h := range p.Hosts {
		if h.Name == "" || h.Name == "." || h.Name == ".." || strings.ContainsAny(h.Name, `/\`) {
			return fmt.Errorf("host %q: not usable as a folder name", h.Name)
		}
		if seen[h.Name] {
			return fmt.Errorf("host %q: listed twice", h.Name)
		}
		seen[h.Name] = true
	}
	return nil
}
