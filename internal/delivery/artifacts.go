package delivery

import (
	"fmt"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/output"
	"github.com/kign-project/kign/internal/plan"
)

// HostInput is what HostArtifacts needs of one host besides the plan.
type HostInput struct {
	Host plan.Host
	// Ignition is the host's full, validated config (<host>.ign).
	Ignition []byte
	// Token is HostToken(secret, Host.Name).
	Token string
}

// Options are the cluster-wide delivery settings.
type Options struct {
	// DeliveryURL is the inventory's delivery.url, the base URL of
	// `kign serve` as hosts reach it. Empty: no pointer configs.
	DeliveryURL string
	// CAPEM is the CA that signed kign serve's certificate.
	CAPEM []byte
	IPXE  IPXEConfig
}

// HostArtifacts returns the delivery files of one host, paths relative to
// the output folder:
//
//	<host>.ipxe           0644  iPXE script, no secret
//	<host>-ignition.img   0600  the boot config (BootConfig: the install config,
//	                            holding the full config) wrapped for an appended initrd
//	<host>.pointer.ign    0600  cloud user-data pointer (only with DeliveryURL)
func HostArtifacts(p *plan.Plan, img images.Image, in HostInput, opt Options) (output.Set, error) {
	name := in.Host.Name
	boot, err := BootConfig(p, in.Host, in.Ignition)
	if err != nil {
		return nil, err
	}
	wrapped, err := WrapIgnitionFor(p.OS, boot)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", name, err)
	}
	set := output.Set{
		{Path: IPXEName(name), Data: IPXEScript(p, in.Host, img, opt.IPXE), Mode: 0o644},
		{Path: IgnitionImgName(name), Data: wrapped, Mode: 0o600},
	}
	if opt.DeliveryURL != "" {
		ptr, err := Pointer(p.OS, ConfigURL(opt.DeliveryURL, name), in.Ignition, opt.CAPEM, in.Token)
		if err != nil {
			return nil, fmt.Errorf("host %q: %w", name, err)
		}
		set = append(set, output.File{Path: PointerName(name), Data: ptr, Mode: 0o600})
	}
	return set, nil
}
