package inventory

import (
	"time"

	"github.com/kign-project/kign/internal/osvariant"
)

// Defaults for fields left out of hosts.yaml. They live here, beside the
// schema, because validation checks the values that will actually be used;
// internal/plan applies them.
const (
	DefaultOS               = osvariant.Default
	DefaultDomain           = "cluster.local"
	DefaultNodeCIDRMaskSize = 24
	DefaultArch             = "amd64"
	DefaultKeyAlgorithm     = "rsa"
	DefaultCAValidity       = 10 * 365 * 24 * time.Hour
	DefaultCertValidity     = 365 * 24 * time.Hour
	// MaxHosts keeps every host's keepalived priority (200 down) above zero.
	MaxHosts = 199
	// DNSServiceIndex: the default dnsServiceIP is the 10th address of the service CIDR.
	DNSServiceIndex = 10
)

// PodsPerNode is how many pod addresses one node subnet of /maskSize holds
// under flannel's host-local IPAM: all but the network, gateway and
// broadcast addresses.
func PodsPerNode(maskSize int) int {
	if maskSize >= 30 {
		return 1
	}
	if maskSize < 16 {
		return 1 << 16
	}
	return 1<<(32-maskSize) - 3
}
