// Package inventory loads and validates hosts.yaml, kign's one input file.
//
// Load keeps the YAML position of every value so that each problem is
// reported as FILE:LINE:COL: FIELD-PATH: message, all problems at once.
// The field names below are the public schema of hosts.yaml; README.md
// documents each one with its default and its rules.
package inventory

// Inventory is the whole hosts.yaml document.
type Inventory struct {
	Cluster   Cluster   `yaml:"cluster"`
	Hosts     []Host    `yaml:"hosts"`
	PKI       PKI       `yaml:"pki,omitempty"`
	Artifacts Artifacts `yaml:"artifacts,omitempty"`
	Images    Images    `yaml:"images,omitempty"`
	Delivery  Delivery  `yaml:"delivery,omitempty"`
	Overlays  []string  `yaml:"overlays,omitempty"`

	// File is the path the inventory was read from (not part of the YAML).
	File string `yaml:"-"`
	// Positions maps a field path (cluster.apiServer.vip, hosts[1].ip) to
	// where its value stands in File. Filled by Load.
	Positions Positions `yaml:"-"`
}

// Cluster holds the settings shared by every host.
type Cluster struct {
	Name              string     `yaml:"name"`
	OS                string     `yaml:"os,omitempty"`
	KubernetesVersion string     `yaml:"kubernetesVersion,omitempty"`
	Domain            string     `yaml:"domain,omitempty"`
	ServiceCIDR       string     `yaml:"serviceCIDR"`
	PodCIDR           string     `yaml:"podCIDR"`
	NodeCIDRMaskSize  int        `yaml:"nodeCIDRMaskSize,omitempty"`
	DNSServiceIP      string     `yaml:"dnsServiceIP,omitempty"`
	Interface         string     `yaml:"interface,omitempty"`
	APIServer         APIServer  `yaml:"apiServer"`
	SSHAuthorizedKeys []string   `yaml:"sshAuthorizedKeys,omitempty"`
	Keepalived        Keepalived `yaml:"keepalived,omitempty"`
	// MaxPods is the kubelet's maxPods; default 110.
	MaxPods int `yaml:"maxPods,omitempty"`
}

// APIServer describes how clients reach the Kubernetes API.
type APIServer struct {
	VIP       string   `yaml:"vip"`
	Port      int      `yaml:"port,omitempty"`
	ExtraSANs []string `yaml:"extraSANs,omitempty"`
}

// Keepalived overrides the values kign derives for the VIP's VRRP instance.
type Keepalived struct {
	// VirtualRouterID is 1..255; default derived from the cluster name and VIP.
	VirtualRouterID int `yaml:"virtualRouterID,omitempty"`
	// Password is the VRRP PASS authentication (at most 8 characters); default derived.
	Password string `yaml:"password,omitempty"`
}

// Host is one control-plane machine.
type Host struct {
	Name      string   `yaml:"name"`
	IP        string   `yaml:"ip"`
	Interface string   `yaml:"interface,omitempty"`
	MAC       string   `yaml:"mac,omitempty"`
	Overlays  []string `yaml:"overlays,omitempty"`
}

// PKI sets how certificates are made.
type PKI struct {
	// KeyAlgorithm is rsa (RSA-2048, default) or ecdsa (P-256).
	KeyAlgorithm string `yaml:"keyAlgorithm,omitempty"`
	// CAValidity is a Go duration such as 87600h (default, 10 years).
	CAValidity string `yaml:"caValidity,omitempty"`
	// CertValidity is a Go duration such as 8760h (default, 1 year).
	CertValidity string `yaml:"certValidity,omitempty"`
}

// Artifacts lets an air-gapped site redirect and pin what hosts download.
type Artifacts struct {
	// Arch is amd64 (default) or arm64.
	Arch string `yaml:"arch,omitempty"`
	// Mirror replaces the scheme://host/prefix of every catalog URL: the file
	// keeps its path below the mirror (see README, "Air-gapped sites").
	Mirror string `yaml:"mirror,omitempty"`
	// ImageRegistry replaces the registry of every container image.
	ImageRegistry string `yaml:"imageRegistry,omitempty"`
	// Overrides pins one artifact by name (kubelet, cni-plugins, ...).
	Overrides map[string]ArtifactOverride `yaml:"overrides,omitempty"`
	// AllowUnverified names artifacts that may be downloaded without a hash.
	AllowUnverified []string `yaml:"allowUnverified,omitempty"`
}

// ArtifactOverride replaces the URL and/or hash of one artifact, or the
// reference of one container image.
type ArtifactOverride struct {
	URL    string `yaml:"url,omitempty"`
	SHA256 string `yaml:"sha256,omitempty"`
	SHA512 string `yaml:"sha512,omitempty"`
	Image  string `yaml:"image,omitempty"`
}

// Images selects and redirects the OS images used for PXE and ISO boot.
type Images struct {
	// Stream is the OS release stream (fcos: stable|testing|next; flatcar: stable|beta|alpha).
	Stream string `yaml:"stream,omitempty"`
	// Version pins an OS release; default from kign's image catalog.
	Version string `yaml:"version,omitempty"`
	// Mirror replaces the base URL of the kernel, initramfs and rootfs.
	Mirror string `yaml:"mirror,omitempty"`
}

// Delivery says how hosts reach their configs at boot (kign serve, pointer
// configs, iPXE).
type Delivery struct {
	// URL is the base URL of `kign serve` as the hosts reach it, e.g.
	// https://10.22.108.5:8443. Pointer configs and iPXE scripts point there.
	URL string `yaml:"url,omitempty"`
}
