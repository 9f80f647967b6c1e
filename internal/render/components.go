package render

import (
	"bytes"
	"encoding/json"
	"fmt"

	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/utils/ptr"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/plan"
)

// Certificate and key files the components read. The names follow
// kubeadm's layout and internal/pki's table (Spec.HostPath/HostKeyPath).
const (
	CACert                     = PKIDir + "/ca.crt"
	CAKey                      = PKIDir + "/ca.key"
	APIServerCert              = PKIDir + "/apiserver.crt"
	APIServerKey               = PKIDir + "/apiserver.key"
	APIServerKubeletClientCert = PKIDir + "/apiserver-kubelet-client.crt"
	APIServerKubeletClientKey  = PKIDir + "/apiserver-kubelet-client.key"
	APIServerEtcdClientCert    = PKIDir + "/apiserver-etcd-client.crt"
	APIServerEtcdClientKey     = PKIDir + "/apiserver-etcd-client.key"
	FrontProxyCACert           = PKIDir + "/front-proxy-ca.crt"
	FrontProxyClientCert       = PKIDir + "/front-proxy-client.crt"
	FrontProxyClientKey        = PKIDir + "/front-proxy-client.key"
	ServiceAccountPublicKey    = PKIDir + "/sa.pub"
	ServiceAccountPrivateKey   = PKIDir + "/sa.key"
	EtcdCACert                 = EtcdPKIDir + "/ca.crt"
	EtcdServerCert             = EtcdPKIDir + "/server.crt"
	EtcdServerKey              = EtcdPKIDir + "/server.key"
	EtcdPeerCert               = EtcdPKIDir + "/peer.crt"
	EtcdPeerKey                = EtcdPKIDir + "/peer.key"
	FlannelEtcdClientCert      = EtcdPKIDir + "/flannel-client.crt"
	FlannelEtcdClientKey       = EtcdPKIDir + "/flannel-client.key"
	EtcdHealthcheckClientCert  = EtcdPKIDir + "/healthcheck-client.crt"
	EtcdHealthcheckClientKey   = EtcdPKIDir + "/healthcheck-client.key"
	EtcdMaintenanceClientCert  = EtcdPKIDir + "/maintenance-client.crt"
	EtcdMaintenanceClientKey   = EtcdPKIDir + "/maintenance-client.key"
)

// Files the kubelet and kube-proxy read besides those in paths.go.
const (
	// KubeletCertFile and KubeletKeyFile are the kubelet's serving pair,
	// issued by kign's PKI (internal/pki KubeletServing).
	KubeletCertFile = KubeletPKIDir + "/kubelet.crt"
	// KubeletClientPair is the first client pair (certificate and key in
	// one file); KubeletClientCurrent, the path kubelet.conf names, is a
	// link to it. client-go's certificate store (util/certificate) needs
	// that link: it writes each renewed pair beside it and moves the link,
	// and refuses a regular file there.
	KubeletClientPair    = KubeletPKIDir + "/kubelet-client-kign.pem"
	KubeletClientCurrent = KubeletPKIDir + "/kubelet-client-current.pem"
	KubeletKeyFile       = KubeletPKIDir + "/kubelet.key"
	// ResolvConf is systemd-resolved's list of the real upstream servers,
	// written on both Fedora CoreOS and Flatcar. Fedora CoreOS's
	// /etc/resolv.conf names the 127.0.0.53 stub instead, which pods cannot
	// reach; kubeadm makes the same switch when systemd-resolved runs
	// (cmd/kubeadm/app/componentconfigs/kubelet_unix.go mutateResolverConfig).
	ResolvConf = "/run/systemd/resolve/resolv.conf"
	// XtablesLock is the lock every iptables user on the host shares.
	XtablesLock = "/run/xtables.lock"
	// LibModules lets kube-proxy load the netfilter modules it needs.
	LibModules = "/lib/modules"
)

// ProxyMode is kube-proxy's mode. iptables is still kube-proxy's default on
// Linux in 1.36 (k8s.io/kube-proxy config/v1alpha1 ProxyMode) and is what
// flanneld's --ip-masq rules use, so the host keeps one packet-filter
// backend; nftables mode (GA in 1.33) is left for when flannel runs with
// EnableNFTables as well.
const ProxyMode = "iptables"

// KubeletConfig returns the kubelet's configuration file for host h.
func KubeletConfig(p *plan.Plan, h plan.Host) ([]byte, error) {
	if !p.DNSServiceIP.IsValid() || p.Domain == "" || p.MaxPods <= 0 {
		return nil, fmt.Errorf("plan lacks DNS service IP, domain or maxPods")
	}
	c := kubeletconfigv1beta1.KubeletConfiguration{
		TypeMeta:      typeMeta(kubeletconfigv1beta1.SchemeGroupVersion.String(), "KubeletConfiguration"),
		StaticPodPath: ManifestsDir,
		ClusterDNS:    []string{p.DNSServiceIP.String()},
		ClusterDomain: p.Domain,
		Authentication: kubeletconfigv1beta1.KubeletAuthentication{
			X509:      kubeletconfigv1beta1.KubeletX509Authentication{ClientCAFile: CACert},
			Webhook:   kubeletconfigv1beta1.KubeletWebhookAuthentication{Enabled: ptr.To(true)},
			Anonymous: kubeletconfigv1beta1.KubeletAnonymousAuthentication{Enabled: ptr.To(false)},
		},
		Authorization: kubeletconfigv1beta1.KubeletAuthorization{
			Mode: kubeletconfigv1beta1.KubeletAuthorizationModeWebhook,
		},
		// systemd matches containerd's SystemdCgroup = true (containerd.go).
		CgroupDriver:             "systemd",
		ContainerRuntimeEndpoint: ContainerdSocket,
		MaxPods:                  int32(p.MaxPods),
		ResolverConfig:           ptr.To(ResolvConf),
		// The serving pair comes from kign's PKI, signed by the cluster CA,
		// so the apiserver can verify it; no CSR flow is involved.
		TLSCertFile:       KubeletCertFile,
		TLSPrivateKeyFile: KubeletKeyFile,
		// kign issues the kubelet's first client certificate
		// (KubeletClientPair, which kubelet.conf names through the
		// KubeletClientCurrent link); the kubelet renews it itself before
		// it expires: a CSR with its own credential, approved by the
		// controller-manager's csrapproving controller (kign's RBAC binds
		// system:nodes to selfnodeclient, as kubeadm's
		// node-autoapprove-certificate-rotation) and signed with the CA
		// key the controller-manager holds. The serving pair stays kign's.
		RotateCertificates: true,
		ServerTLSBootstrap: false,
		ReadOnlyPort:       0,
		// The kubelet may set the taint but not the control-plane label
		// (NodeRestriction); kign-addons.service sets the label.
		RegisterWithTaints: ControlPlaneTaints(p),
		// /usr is read-only on both OSes, so the kubelet's default
		// (/usr/libexec/kubernetes/kubelet-plugins/volume/exec/) cannot
		// take FlexVolume drivers; typhoon uses the same folder.
		VolumePluginDir: VolumePluginDir,
		// A shutdown or reboot (an OS update's, too) waits for the pods to
		// stop: 15 s for ordinary pods, then 30 s for the critical ones
		// (every static pod is system-node-critical), through a systemd
		// inhibitor lock; the kubelet raises logind's InhibitDelayMaxSec
		// itself (pkg/kubelet/nodeshutdown). Typhoon's values.
		ShutdownGracePeriod:             metav1.Duration{Duration: 45 * time.Second},
		ShutdownGracePeriodCriticalPods: metav1.Duration{Duration: 30 * time.Second},
		// protectKernelDefaults makes the kubelet refuse to start unless
		// vm.overcommit_memory, vm.panic_on_oom, kernel.panic,
		// kernel.panic_on_oops and kernel.keys.* already hold its values.
		// kign sets only forwarding and bridge sysctls, so it stays off.
		ProtectKernelDefaults: false,
	}
	gates, err := featureGates(p, "kubelet")
	if err != nil {
		return nil, err
	}
	c.FeatureGates = gates
	if err := mergeConfig(&c, p.Components.Kubelet.Config.JSON()); err != nil {
		return nil, fmt.Errorf("components.kubelet.config: %w", err)
	}
	return marshalYAML(c)
}

// KubeletArgs are the kubelet's command-line flags, sorted by name; every
// other setting is in its configuration file.
func KubeletArgs(p *plan.Plan, h plan.Host) []string {
	return cmdFlags{
		{"config", KubeletConfigFile},
		{"kubeconfig", KubeletKubeconfig},
		{"node-ip", h.IP.String()},
		{"hostname-override", h.Name},
	}.withExtraArgs(p.Components.Kubelet.ExtraArgs).args()
}

// ProxyConfig returns kube-proxy's configuration file for host h.
func ProxyConfig(p *plan.Plan, h plan.Host) ([]byte, error) {
	if !p.PodCIDR.IsValid() {
		return nil, fmt.Errorf("plan has no pod CIDR")
	}
	c := kubeproxyconfigv1alpha1.KubeProxyConfiguration{
		TypeMeta:         typeMeta(kubeproxyconfigv1alpha1.SchemeGroupVersion.String(), "KubeProxyConfiguration"),
		HostnameOverride: h.Name,
		Mode:             ProxyMode,
		// The pod network, not the service network the seed used: with
		// detectLocalMode ClusterCIDR it tells pod traffic from the rest.
		ClusterCIDR: p.PodCIDR.String(),
	}
	c.ClientConnection.Kubeconfig = ProxyKubeconfig
	gates, err := featureGates(p, "kube-proxy")
	if err != nil {
		return nil, err
	}
	c.FeatureGates = gates
	if err := mergeConfig(&c, p.Components.KubeProxy.Config.JSON()); err != nil {
		return nil, fmt.Errorf("components.kubeProxy.config: %w", err)
	}
	return marshalYAML(c)
}

// proxyPod runs kube-proxy as a static pod, as kubeadm's DaemonSet does
// (cmd/kubeadm/app/phases/addons/proxy/manifests.go), but without the API:
// the config and kubeconfig are files on the host.
func proxyPod(p *plan.Plan, h plan.Host) (*corev1.Pod, error) {
	c := corev1.Container{
		Command: commandLine("kube-proxy", cmdFlags{
			{"config", ProxyConfigFile},
			{"hostname-override", h.Name},
		}),
		SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		// /livez, not /healthz: since 1.28 /healthz also fails while the node
		// is being deleted (KEP-3836), which is no reason to restart.
		LivenessProbe: livenessProbe(corev1.URISchemeHTTP, "/livez", ProxyHealthzPort),
	}
	m := hostMounts{
		{ProxyConfigFile, corev1.HostPathFile, true},
		{ProxyKubeconfig, corev1.HostPathFile, true},
		{LibModules, corev1.HostPathDirectory, true},
		{XtablesLock, corev1.HostPathFileOrCreate, false},
	}
	return staticPod(p, "kube-proxy", catalog.ImageProxy, c, m)
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// authenticationConfiguration mirrors the part of kube-apiserver's
// AuthenticationConfiguration (k8s.io/apiserver/pkg/apis/apiserver/v1) that
// kign sets, with omitempty where kign leaves a field out (the library's
// jwt has none).
type authenticationConfiguration struct {
	APIVersion string                         `json:"apiVersion"`
	Kind       string                         `json:"kind"`
	JWT        []apiserverv1.JWTAuthenticator `json:"jwt,omitempty"`
	Anonymous  *anonymousAuthConfig           `json:"anonymous,omitempty"`
}

type anonymousAuthConfig struct {
	Enabled    bool                     `json:"enabled"`
	Conditions []anonymousAuthCondition `json:"conditions,omitempty"`
}

type anonymousAuthCondition struct {
	Path string `json:"path"`
}

// anonymousPaths are the only paths anonymous requests may reach: the
// health endpoints kubelet probes and keepalived's check use. The
// system:public-info-viewer binding authorizes them for system:unauthenticated.
var anonymousPaths = []string{"/livez", "/readyz", "/healthz"}

// AuthenticationConfig returns kube-apiserver's --authentication-config file.
// apiserver.config.k8s.io/v1 holds AuthenticationConfiguration since
// structured authentication went GA in 1.34, as did the anonymous
// conditions (KEP-4633).
// The inventory's JWT (OIDC) authenticators (cluster.apiServer.authentication)
// come first, in its order.
func AuthenticationConfig(p *plan.Plan) ([]byte, error) {
	c := authenticationConfiguration{
		APIVersion: "apiserver.config.k8s.io/v1",
		Kind:       "AuthenticationConfiguration",
		Anonymous:  &anonymousAuthConfig{Enabled: true},
	}
	if j := p.APIServerAuthentication.JSON(); j != nil {
		var user apiserverv1.AuthenticationConfiguration
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&user); err != nil {
			return nil, fmt.Errorf("cluster.apiServer.authentication: %w", err)
		}
		c.JWT = user.JWT
	}
	for _, p := range anonymousPaths {
		c.Anonymous.Conditions = append(c.Anonymous.Conditions, anonymousAuthCondition{Path: p})
	}
	return marshalYAML(c)
}
