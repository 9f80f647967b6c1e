// Package render builds, for one host of a plan, every file and unit its
// Ignition config carries: static-pod manifests as typed corev1.Pod values,
// kubelet and kube-proxy configurations as typed config structs,
// kubeconfigs through client-go's clientcmd, and free-text files (unit
// files, keepalived.conf) from templates with precomputed values.
// It does no I/O.
package render

import "github.com/kign-project/kign/internal/osvariant"

// Paths on a master. They follow kubeadm's layout, so operators find things
// where they expect them; every path a flag names is listed here once.
const (
	KubernetesDir = "/etc/kubernetes"
	ManifestsDir  = "/etc/kubernetes/manifests"
	PKIDir        = "/etc/kubernetes/pki"
	EtcdPKIDir    = "/etc/kubernetes/pki/etcd"

	// Binaries downloaded at first boot go to the OS row's BinDir
	// (KubeletBin, FlanneldBin, EtcdctlBin): /usr is read-only on both
	// OSes, and where else systemd may execute a file differs.
	KubeletName  = "kubelet"
	FlanneldName = "flanneld"
	EtcdctlName  = "etcdctl"
	EtcdutlName  = "etcdutl"

	// Tarballs Ignition downloads, unpacked by oneshot units before kubelet.
	DownloadDir       = "/opt/kign/downloads"
	CNIPluginsTarball = "/opt/kign/downloads/cni-plugins.tgz"
	EtcdTarball       = "/opt/kign/downloads/etcd.tar.gz"

	CNIBinDir     = "/opt/cni/bin"
	CNIConfDir    = "/etc/cni/net.d"
	CNIConfFile   = "/etc/cni/net.d/10-flannel.conflist"
	FlannelCNIBin = "/opt/cni/bin/flannel"

	KubeletDir        = "/var/lib/kubelet"
	KubeletConfigFile = "/var/lib/kubelet/config.yaml"
	KubeletPKIDir     = "/var/lib/kubelet/pki"
	KubeletKubeconfig = "/etc/kubernetes/kubelet.conf"
	VolumePluginDir   = "/var/lib/kubelet/volumeplugins"

	ControllerManagerKubeconfig = "/etc/kubernetes/controller-manager.conf"
	SchedulerKubeconfig         = "/etc/kubernetes/scheduler.conf"
	ProxyKubeconfig             = "/etc/kubernetes/kube-proxy.conf"
	ProxyConfigFile             = "/var/lib/kube-proxy/config.conf"
	ProxyDir                    = "/var/lib/kube-proxy"

	// AuthenticationConfigFile lets anonymous requests reach only the health
	// endpoints (KEP-4633, stable in 1.34), for keepalived's check.
	AuthenticationConfigFile = "/etc/kubernetes/authentication-config.yaml"

	// EncryptionConfigFile is kube-apiserver's --encryption-provider-config
	// (EncryptionConfig); it holds the encryption keys.
	EncryptionConfigFile = "/etc/kubernetes/encryption-config.yaml"
	// AuditPolicyFile and AuditLogDir are kube-apiserver's audit policy and
	// the host folder its audit log (AuditLogFile) is written to.
	AuditPolicyFile = "/etc/kubernetes/audit-policy.yaml"
	AuditLogDir     = "/var/log/kubernetes/audit"

	// EtcdAuthScript turns etcd's authentication on (EtcdAuthScript).
	EtcdAuthScriptFile = "/etc/kubernetes/etcd-auth.sh"
	// EtcdMemberScriptFile decides how etcd starts (EtcdMemberScript);
	// EtcdLearnerMarker holds the ID of this master's member while it is
	// a learner still to be promoted.
	EtcdMemberScriptFile = "/etc/kubernetes/etcd-member.sh"
	EtcdLearnerMarker    = "/var/lib/kign/etcd-learner"
	// EtcdSnapshotScriptFile saves snapshots into EtcdSnapshotDir
	// (EtcdSnapshotScript); EtcdRestoreScriptFile restores one.
	EtcdSnapshotScriptFile = "/etc/kubernetes/etcd-snapshot.sh"
	EtcdRestoreScriptFile  = "/etc/kubernetes/etcd-restore.sh"
	EtcdSnapshotDir        = "/var/lib/etcd-snapshots"

	// The cluster add-ons (addons.go): kign's RBAC, applied with the
	// bootstrap kubeconfig (deleted after use), then every file of
	// AddonsDir with the add-on manager's, by AddonsScriptFile.
	AddonsDir              = "/etc/kubernetes/addons"
	BootstrapRBACFile      = "/etc/kubernetes/kign-rbac.yaml"
	AddonsScriptFile       = "/etc/kubernetes/kign-addons.sh"
	BootstrapKubeconfig    = "/etc/kubernetes/bootstrap.conf"
	AddonManagerKubeconfig = "/etc/kubernetes/addons.conf"
	KubectlName            = "kubectl"
	// AddonsAppliedMarker says this installation applied its add-ons;
	// kign-addons.service does not run again while it exists.
	AddonsAppliedMarker = "/var/lib/kign/addons-applied"

	EtcdDataDir = "/var/lib/etcd"

	FlannelDir         = "/etc/flannel"
	FlannelNetConfFile = "/etc/flannel/net-conf.json"
	FlanneldEnvFile    = "/etc/flannel/flanneld.env"
	FlannelRunDir      = "/run/flannel"
	FlannelEtcdPrefix  = "/coreos.com/network"

	KeepalivedDir         = "/etc/keepalived"
	KeepalivedConfigFile  = "/etc/keepalived/keepalived.conf"
	KeepalivedCheckScript = "/etc/keepalived/check_apiserver.sh"

	ContainerdConfigFile = "/etc/containerd/config.toml"
	ContainerdSocket     = "unix:///run/containerd/containerd.sock"
	// ContainerdCertsDir holds per-registry hosts.toml and CA files.
	ContainerdCertsDir = "/etc/containerd/certs.d"
)

// Ports every master uses.
const (
	EtcdClientPort        = 2379
	EtcdPeerPort          = 2380
	EtcdMetricsPort       = 2381
	KubeletPort           = 10250
	ControllerManagerPort = 10257
	SchedulerPort         = 10259
	ProxyHealthzPort      = 10256
)

// KubeletBin, FlanneldBin and EtcdctlBin are where the downloaded binaries
// live on OS o.
func KubeletBin(o osvariant.OS) string  { return o.Bin(KubeletName) }
func FlanneldBin(o osvariant.OS) string { return o.Bin(FlanneldName) }
func EtcdctlBin(o osvariant.OS) string  { return o.Bin(EtcdctlName) }

// EtcdutlBin is where etcdutl (snapshot status and restore) lives on OS o.
func EtcdutlBin(o osvariant.OS) string { return o.Bin(EtcdutlName) }

// KubectlBin is where the downloaded kubectl lives on OS o.
func KubectlBin(o osvariant.OS) string { return o.Bin(KubectlName) }
