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
	// Addons are Kubernetes manifest files (YAML, several documents each),
	// relative to hosts.yaml, that the masters apply after kign's add-ons,
	// in this order, with the add-on manager's credential (README "Add-ons").
	Addons []string `yaml:"addons,omitempty"`

	// File is the path the inventory was read from (not part of the YAML).
	File string `yaml:"-"`
	// Lock is the inventory's lock file (LockPath), read by Load; empty
	// when there is none.
	Lock *Lock `yaml:"-"`
	// Positions maps a field path (cluster.apiServer.vip, hosts[1].ip) to
	// where its value stands in File. Filled by Load.
	Positions Positions `yaml:"-"`
	// Effective holds every value in use, defaults applied; set by Load
	// and Validate when the inventory has no error, nil otherwise.
	Effective *Effective `yaml:"-"`
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
	// InstallDisk is the disk a live (PXE, ISO) boot installs the OS to,
	// for every host without its own hosts[].installDisk; default /dev/sda.
	InstallDisk string `yaml:"installDisk,omitempty"`
	// Network is the static addressing shared by every host; without it
	// (and without hosts[].network.address) hosts take DHCP.
	Network Network `yaml:"network,omitempty"`
	// Updates says how the OS's update agent may reboot the masters.
	Updates Updates `yaml:"updates,omitempty"`
	// Audit sets kube-apiserver's audit log on every master.
	Audit Audit `yaml:"audit,omitempty"`
	// AllowPodsOnMasters drops the control-plane NoSchedule taint, so that
	// ordinary pods run on the masters (small clusters of masters only).
	AllowPodsOnMasters bool `yaml:"allowPodsOnMasters,omitempty"`
	// FeatureGates are Kubernetes feature gates (Name: true|false) for
	// every component that knows the gate: kube-apiserver,
	// kube-controller-manager and kube-scheduler by --feature-gates, the
	// kubelet and kube-proxy through their configuration files.
	FeatureGates map[string]bool `yaml:"featureGates,omitempty"`
	// Components customizes the components kign runs, as kubeadm's
	// ClusterConfiguration does (README "Customizing components").
	Components Components `yaml:"components,omitempty"`
}

// Components holds each component's customization.
type Components struct {
	Etcd              Component `yaml:"etcd,omitempty"`
	APIServer         Component `yaml:"apiServer,omitempty"`
	ControllerManager Component `yaml:"controllerManager,omitempty"`
	Scheduler         Component `yaml:"scheduler,omitempty"`
	KubeProxy         Component `yaml:"kubeProxy,omitempty"`
	Kubelet           Component `yaml:"kubelet,omitempty"`
	Keepalived        Component `yaml:"keepalived,omitempty"`
}

// Component is one component's extra flags and mounts.
type Component struct {
	// ExtraArgs are flags (name without "--": value). A flag kign sets is
	// replaced, any other is added; the flags the cluster needs to work
	// cannot be replaced, and a flag the component's version does not have
	// is refused.
	ExtraArgs map[string]string `yaml:"extraArgs,omitempty"`
	// ExtraVolumes are hostPath mounts into the component's static pod
	// (not the kubelet's, which runs on the host).
	ExtraVolumes []ExtraVolume `yaml:"extraVolumes,omitempty"`
	// Config holds fields of the component's configuration file, for the
	// kubelet (KubeletConfiguration, kubelet.config.k8s.io/v1beta1) and
	// kube-proxy (KubeProxyConfiguration, kubeproxy.config.k8s.io/v1alpha1):
	// merged over what kign writes; the fields kign derives are refused.
	Config ConfigFields `yaml:"config,omitempty"`
}

// ExtraVolume is one hostPath mount, as kubeadm's HostPathMount.
type ExtraVolume struct {
	// Name is the volume's name in the pod: a DNS-1123 label.
	Name string `yaml:"name"`
	// HostPath is the absolute path on the host.
	HostPath string `yaml:"hostPath"`
	// MountPath is the absolute path in the container.
	MountPath string `yaml:"mountPath"`
	// ReadOnly mounts it read-only.
	ReadOnly bool `yaml:"readOnly,omitempty"`
	// PathType is a hostPath type: File, FileOrCreate, Directory,
	// DirectoryOrCreate, Socket, CharDevice, BlockDevice; default none
	// (no check).
	PathType string `yaml:"pathType,omitempty"`
}

// Audit sets kube-apiserver's audit log, written on each master to
// /var/log/kubernetes/audit/kube-apiserver.log and rotated there.
type Audit struct {
	// Policy is "default" (kign's policy: one line of metadata, who did
	// what to which object and the answer, for every request except health
	// checks and leader-election renewals; never a request or response
	// body, so no Secret's content) or "off" (no audit log).
	Policy string `yaml:"policy,omitempty"`
	// MaxAgeDays is how long rotated files are kept; default 30.
	MaxAgeDays int `yaml:"maxAgeDays,omitempty"`
	// MaxBackups is how many rotated files are kept; default 10.
	MaxBackups int `yaml:"maxBackups,omitempty"`
	// MaxSizeMB is the size at which the log is rotated; default 100.
	MaxSizeMB int `yaml:"maxSizeMB,omitempty"`
}

// Network is static IPv4 addressing on a host's interface.
type Network struct {
	// PrefixLength is the length of the hosts' subnet (24 for a /24); it
	// turns static addressing on for every host, with hosts[].ip.
	PrefixLength int `yaml:"prefixLength,omitempty"`
	// Gateway is the default route; it must lie in the host's subnet.
	Gateway string `yaml:"gateway,omitempty"`
	// DNS lists the name servers, in order.
	DNS []string `yaml:"dns,omitempty"`
}

// HostNetwork is one host's static addressing; unset fields come from
// cluster.network.
type HostNetwork struct {
	// Address is IP/PREFIX; its IP must be hosts[].ip.
	Address string   `yaml:"address,omitempty"`
	Gateway string   `yaml:"gateway,omitempty"`
	DNS     []string `yaml:"dns,omitempty"`
}

// Updates sets how OS updates reboot the masters: never two at once.
type Updates struct {
	// Strategy is "windows" (default: each host reboots for an update only
	// in its own window, and no two windows overlap) or "off" (no automatic
	// update reboots; reboot the masters by hand, one at a time).
	Strategy string `yaml:"strategy,omitempty"`
	// Window is the first host's window; each next host's window follows
	// the one before after a gap as long as the window. Default: every
	// day, 02:00 UTC, 30m.
	Window Window `yaml:"window,omitempty"`
}

// Window is a weekly time slot, in UTC.
type Window struct {
	// Days are the weekdays (Mon, Tue, ...); default every day.
	Days []string `yaml:"days,omitempty"`
	// Start is HH:MM, 24-hour, UTC.
	Start string `yaml:"start,omitempty"`
	// Length is a Go duration of whole minutes, e.g. 30m or 1h.
	Length string `yaml:"length,omitempty"`
}

// APIServer describes how clients reach the Kubernetes API.
type APIServer struct {
	VIP       string   `yaml:"vip"`
	Port      int      `yaml:"port,omitempty"`
	ExtraSANs []string `yaml:"extraSANs,omitempty"`
	// Authentication holds fields of kube-apiserver's
	// AuthenticationConfiguration (apiserver.config.k8s.io/v1): jwt, the
	// JWT (OIDC) authenticators. kign sets anonymous.
	Authentication ConfigFields `yaml:"authentication,omitempty"`
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
	// InstallDisk overrides cluster.installDisk for this host; prefer a
	// stable /dev/disk/by-id/... or /dev/disk/by-path/... name.
	InstallDisk string `yaml:"installDisk,omitempty"`
	// Network is this host's static addressing (see cluster.network).
	Network HostNetwork `yaml:"network,omitempty"`
	// UpdateWindow, when set, is this host's own update window instead of
	// the derived one; kign refuses windows that overlap another host's.
	UpdateWindow Window `yaml:"updateWindow,omitempty"`
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
	// ImageRegistryCA is the PEM certificate(s) of the CA that signed
	// imageRegistry's serving certificate: containerd trusts it for that
	// registry only (/etc/containerd/certs.d/HOST/), not system-wide.
	ImageRegistryCA string `yaml:"imageRegistryCA,omitempty"`
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
	// Boot is "install" (default: the PXE and ISO boots install the OS to
	// the host's installDisk and reboot into it, where Ignition applies the
	// host's config) or "live" (the master runs from RAM and loses etcd's
	// data on every reboot; for tests only, warned about on every run).
	Boot string `yaml:"boot,omitempty"`
}
