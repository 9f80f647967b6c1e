package gen

import (
	"fmt"

	"github.com/kign-project/kign/internal/delivery"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// Output formats of `kign gen`.
const (
	// FormatIgnition writes <host>.ign plus each host's delivery files:
	// <host>.ipxe, <host>-ignition.img and (with delivery.url) <host>.pointer.ign.
	FormatIgnition = "ignition"
	// FormatMatchbox writes matchbox's profiles/, groups/ and ignition/ layout.
	FormatMatchbox = "matchbox"
)

// deliveryFiles is one host's boot-delivery files.
func deliveryFiles(p *plan.Plan, b *pki.Bundle, hc HostConfig) (output.Set, error) {
	ca, ok := b.Get(pki.CA, "")
	if !ok {
		return nil, fmt.Errorf("the PKI bundle has no %s", pki.CA)
	}
	secret := b.DeliveryTokenSecret()
	if p.DeliveryURL != "" && len(secret) == 0 {
		return nil, fmt.Errorf("the PKI bundle has no delivery token secret")
	}
	in := delivery.HostInput{Host: hc.Host, Ignition: hc.Ignition}
	if p.DeliveryURL != "" {
		in.Token = delivery.HostToken(secret, hc.Host.Name)
	}
	return delivery.HostArtifacts(p, p.Image, in, delivery.Options{DeliveryURL: p.DeliveryURL, CAPEM: ca.CertPEM})
}

// matchboxFiles is the matchbox export of a run. The warnings must reach the
// operator: matchbox serves every config, keys included, to anyone.
func matchboxFiles(p *plan.Plan, hosts []HostConfig, endpoint string) (output.Set, []string, error) {
	ign := map[string][]byte{}
	for _, hc := range hosts {
		ign[hc.Host.Name] = hc.Ignition
	}
	return delivery.Matchbox(p, p.Image, ign, delivery.MatchboxConfig{HTTPEndpoint: endpoint})
}
