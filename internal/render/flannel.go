package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kign-project/kign/internal/plan"
)

// FlannelNetwork is flannel's network configuration, the value stored at
// FlannelEtcdPrefix + "/config" (flannel's Documentation/configuration.md).
type FlannelNetwork struct {
	Network   string         `json:"Network"`
	SubnetLen int            `json:"SubnetLen"`
	Backend   FlannelBackend `json:"Backend"`
}

// FlannelBackend selects flannel's data path.
type FlannelBackend struct {
	Type string `json:"Type"`
}

// FlannelNetConf returns flannel's network configuration: the pod CIDR cut
// into one subnet of the node mask size per host, over VXLAN.
func FlannelNetConf(p *plan.Plan) ([]byte, error) {
	if !p.PodCIDR.IsValid() || p.NodeCIDRMaskSize <= p.PodCIDR.Bits() || p.NodeCIDRMaskSize > 30 {
		return nil, fmt.Errorf("pod CIDR %s cannot hold /%d node subnets", p.PodCIDR, p.NodeCIDRMaskSize)
	}
	return marshalJSON(FlannelNetwork{
		Network:   p.PodCIDR.String(),
		SubnetLen: p.NodeCIDRMaskSize,
		Backend:   FlannelBackend{Type: "vxlan"},
	})
}

// CNINetworkList is a CNI network configuration list (CNI spec, "Network
// Configuration Lists").
type CNINetworkList struct {
	CNIVersion string      `json:"cniVersion"`
	Name       string      `json:"name"`
	Plugins    []CNIPlugin `json:"plugins"`
}

// CNIPlugin is one plugin of a CNINetworkList: kign uses flannel and portmap.
type CNIPlugin struct {
	Type         string           `json:"type"`
	Delegate     *FlannelDelegate `json:"delegate,omitempty"`
	Capabilities map[string]bool  `json:"capabilities,omitempty"`
}

// FlannelDelegate is passed by flannel's CNI plugin to the bridge plugin.
type FlannelDelegate struct {
	HairpinMode      bool `json:"hairpinMode"`
	IsDefaultGateway bool `json:"isDefaultGateway"`
}

// CNIVersion is the CNI spec version of the network list. The flannel plugin
// (flannel-io/cni-plugin) accepts every version (cni version.All), and CNI
// plugins 1.x and containerd 2.x speak 1.0.0; kube-flannel.yml still says 0.3.1.
const CNIVersion = "1.0.0"

// CNIConfList returns the CNI configuration of cni-conf.json in upstream's
// kube-flannel.yml: flannel delegating to the bridge plugin, then portmap
// for hostPort.
func CNIConfList(_ *plan.Plan) ([]byte, error) {
	return marshalJSON(CNINetworkList{
		CNIVersion: CNIVersion,
		Name:       "cbr0",
		Plugins: []CNIPlugin{
			{Type: "flannel", Delegate: &FlannelDelegate{HairpinMode: true, IsDefaultGateway: true}},
			{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}},
		},
	})
}

// FlanneldArgs are flanneld's flags on host h, sorted by name: the etcd v3
// subnet manager (flannel-io/flannel#1562), and the host's own address
// pinned. The etcd endpoints come from FlanneldEnvironment instead. --iface names the address rather than the
// interface: by name flanneld takes the interface's first IPv4 address,
// which may be the VIP keepalived added there; by address it is the host's.
func FlanneldArgs(p *plan.Plan, h plan.Host) []string {
	return cmdFlags{
		{"etcd-prefix", FlannelEtcdPrefix},
		{"etcd-cafile", EtcdCACert},
		{"etcd-certfile", FlannelEtcdClientCert},
		{"etcd-keyfile", FlannelEtcdClientKey},
		{"iface", h.IP.String()},
		{"public-ip", h.IP.String()},
		{"ip-masq", "true"},
	}.args()
}

// FlanneldEnvironment is flanneld's environment file: every etcd member's
// client URL as FLANNELD_ETCD_ENDPOINTS (flanneld reads any flag from a
// FLANNELD_-prefixed variable). It is a file rather than a flag because
// systemd unit lines are limited to 2048 bytes, which a large cluster's
// endpoint list exceeds.
func FlanneldEnvironment(p *plan.Plan) []byte {
	return []byte("FLANNELD_ETCD_ENDPOINTS=" + strings.Join(p.EtcdClientEndpoints, ",") + "\n")
}

// marshalJSON indents JSON for people reading the host's files.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
