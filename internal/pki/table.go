// Package pki holds kign's certificate set: a declarative table of every
// certificate authority, key pair and certificate an HA control plane needs,
// and a Bundle that loads them from a directory, issues what is missing with
// cfssl's library, reuses what is still valid and saves only what changed.
//
// The table follows kubeadm's (cmd/kubeadm/app/phases/certs/certlist.go):
// names, subjects, usages, SAN rules, the layout on disk and on the hosts.
// The same table drives generation, `kign certs` and the tests.
//
// Safety rules, in the order they are applied:
//   - A CA or the service-account key is never replaced implicitly: a CA whose
//     key does not match, that is expired or half missing is an error.
//   - A certificate that no longer verifies against its CA (the CA was
//     replaced, or the file comes from another bundle) is an error naming the
//     files, unless Options.ForceReissue asks to re-issue it.
//   - Any other certificate is reused byte for byte when it still matches the
//     plan (subject, usages, SANs, key algorithm) and is not expired;
//     otherwise it is re-issued and the event says why.
package pki

import (
	"crypto/x509"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/kign-project/kign/internal/plan"
)

// Kind says what a table row produces.
type Kind int

const (
	// KindCA is a self-signed certificate authority.
	KindCA Kind = iota
	// KindKeyPair is a bare key pair without certificate (the service-account key).
	KindKeyPair
	// KindLeaf is a certificate signed by one of the CAs.
	KindLeaf
)

func (k Kind) String() string {
	switch k {
	case KindCA:
		return "CA"
	case KindKeyPair:
		return "key pair"
	default:
		return "certificate"
	}
}

// HostPlaceholder in Spec.CN is replaced by the host's name.
const HostPlaceholder = "{host}"

// SANFunc computes the subject alternative names of a certificate for one
// host of a plan; cluster-wide rows are called with the zero Host.
type SANFunc func(p *plan.Plan, h plan.Host) (dns []string, ips []netip.Addr)

// Spec is one row of the certificate table.
type Spec struct {
	// Name is kubeadm's name where kubeadm has one; it is the name in events,
	// in `kign certs check` and in Get.
	Name string
	Kind Kind
	// CA is the Name of the signing CA row; "" for CAs and the key pair.
	CA string
	// Alias is the name `kign certs adopt --ca` accepts for a CA row.
	Alias string
	// CN is the subject common name; HostPlaceholder stands for the host name.
	CN   string
	Orgs []string
	// Usages are the extended key usages of a leaf (server auth, client auth).
	Usages []x509.ExtKeyUsage
	// PerHost rows are issued once per host and name only that host.
	PerHost bool
	// SANs is the SAN rule; nil for certificates without SANs.
	SANs SANFunc
	// File is the path in the bundle directory without extension: cluster-wide
	// rows relative to the directory, per-host rows relative to hosts/<host>/.
	// Certificates are File.crt, keys File.key; the key pair is File.key and File.pub.
	File string
	// OnHost is where the row goes on the hosts, without extension: the
	// certificate at OnHost.crt (the public key of the key pair at
	// OnHost.pub), on every master, or on its own master for PerHost rows.
	// "" means the certificate is not a file on the hosts (render embeds it
	// in a kubeconfig, or it never leaves the operator: admin). See HostPath.
	OnHost string
	// KeyOnHost puts the private key at OnHost.key too; false keeps it off
	// the hosts (the etcd and front-proxy CA keys). See HostKeyPath.
	KeyOnHost bool
	// Purpose says in a few words what the row is for.
	Purpose string
	// When, if set, limits the row to plans it returns true for.
	When func(p *plan.Plan) bool
	// KeyAlgorithm, if set, is the row's key algorithm whatever
	// pki.keyAlgorithm says.
	KeyAlgorithm string
}

// keyAlgorithmFor is the key algorithm of row s in a bundle of alg.
func (s Spec) keyAlgorithmFor(alg string) string {
	if s.KeyAlgorithm != "" {
		return s.KeyAlgorithm
	}
	return alg
}

// Identities kign's RBAC binds (render.BootstrapRBAC).
const (
	// ClusterAdminsGroup is admin's group, bound to cluster-admin.
	ClusterAdminsGroup = "kign:cluster-admins"
	// AddonManagerUser applies the add-ons.
	AddonManagerUser = "kign:addon-manager"
)

// Names of the rows other stages look up.
const (
	CA                     = "ca"
	FrontProxyCA           = "front-proxy-ca"
	EtcdCA                 = "etcd-ca"
	ServiceAccountKey      = "sa"
	APIServer              = "apiserver"
	APIServerKubeletClient = "apiserver-kubelet-client"
	APIServerEtcdClient    = "apiserver-etcd-client"
	FrontProxyClient       = "front-proxy-client"
	EtcdServer             = "etcd-server"
	EtcdPeer               = "etcd-peer"
	EtcdHealthcheckClient  = "etcd-healthcheck-client"
	FlannelEtcdClient      = "flannel-etcd-client"
	EtcdMaintenanceClient  = "etcd-maintenance-client"
	Admin                  = "admin"
	SuperAdmin             = "super-admin"
	AddonManager           = "addon-manager"
	Bootstrap              = "bootstrap"
	ControllerManager      = "controller-manager"
	Scheduler              = "scheduler"
	KubeProxy              = "kube-proxy"
	KubeletClient          = "kubelet-client"
	KubeletServing         = "kubelet-serving"
	DeliveryServing        = "delivery-serving"
)

var (
	server = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	both   = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

const (
	pkiDir     = "/etc/kubernetes/pki/"
	kubeletDir = "/var/lib/kubelet/pki/"
)

// Table is the certificate set, CAs first: every row comes after the CA
// that signs it. Generation, `kign certs` and the tests walk it in this order.
var Table = []Spec{
	{Name: CA, Kind: KindCA, Alias: "kubernetes", CN: "kubernetes", File: "ca",
		OnHost: pkiDir + "ca", KeyOnHost: true, // controller-manager signs with it
		Purpose: "cluster CA: apiserver, kubelets and every component client"},
	{Name: FrontProxyCA, Kind: KindCA, Alias: "front-proxy", CN: "front-proxy-ca", File: "front-proxy-ca",
		OnHost: pkiDir + "front-proxy-ca", Purpose: "CA of the aggregation layer's proxy client"},
	{Name: EtcdCA, Kind: KindCA, Alias: "etcd", CN: "etcd-ca", File: "etcd/ca",
		OnHost: pkiDir + "etcd/ca", Purpose: "CA of etcd's servers, peers and clients"},
	{Name: ServiceAccountKey, Kind: KindKeyPair, File: "sa",
		OnHost: pkiDir + "sa", KeyOnHost: true,
		Purpose: "service-account token signing key (never a CA key)"},

	{Name: APIServer, Kind: KindLeaf, CA: CA, CN: "kube-apiserver", Usages: server, PerHost: true,
		SANs: apiserverSANs, File: "apiserver",
		OnHost: pkiDir + "apiserver", KeyOnHost: true,
		Purpose: "kube-apiserver serving certificate"},
	// No group: kign's RBAC binds this user to system:kubelet-api-admin,
	// what the apiserver needs of kubelets (logs, exec, port-forward,
	// metrics), where kubeadm before 1.29 put it in system:masters.
	{Name: APIServerKubeletClient, Kind: KindLeaf, CA: CA, CN: "kube-apiserver-kubelet-client",
		Usages: client, File: "apiserver-kubelet-client",
		OnHost: pkiDir + "apiserver-kubelet-client", KeyOnHost: true,
		Purpose: "kube-apiserver → kubelet client"},
	{Name: KubeletClient, Kind: KindLeaf, CA: CA, CN: "system:node:" + HostPlaceholder, Orgs: []string{"system:nodes"},
		Usages: client, PerHost: true, File: "kubelet-client",
		Purpose: "kubelet → apiserver client: its first pair (kubelet-client-kign.pem), which the kubelet renews itself"},
	{Name: KubeletServing, Kind: KindLeaf, CA: CA, CN: "system:node:" + HostPlaceholder, Orgs: []string{"system:nodes"},
		Usages: server, PerHost: true, SANs: kubeletSANs, File: "kubelet-serving",
		OnHost: kubeletDir + "kubelet", KeyOnHost: true,
		Purpose: "kubelet serving certificate (apiserver verifies it with ca.crt)"},
	// admin and super-admin split as kubeadm does since 1.29
	// (kubeadm:cluster-admins and kubernetes-super-admin): admin's group
	// is bound to cluster-admin by a ClusterRoleBinding, which can be
	// deleted; super-admin is in system:masters, which RBAC cannot revoke,
	// for when the bindings are broken.
	{Name: Admin, Kind: KindLeaf, CA: CA, CN: "kubernetes-admin", Orgs: []string{ClusterAdminsGroup},
		Usages: client, File: "admin", Purpose: "operator's admin.kubeconfig (cluster-admin by binding); never goes to a host"},
	{Name: SuperAdmin, Kind: KindLeaf, CA: CA, CN: "kubernetes-super-admin", Orgs: []string{"system:masters"},
		Usages: client, File: "super-admin", Purpose: "break-glass super-admin.kubeconfig (system:masters); never goes to a host"},
	{Name: AddonManager, Kind: KindLeaf, CA: CA, CN: AddonManagerUser,
		Usages: client, File: "addon-manager", Purpose: "kign-addons.service applying the add-ons (addons.conf); only what they need"},
	// The one system:masters credential on a master: kign-addons.service
	// applies kign's RBAC with it (the bindings nothing else may create)
	// and then deletes bootstrap.conf, on every provisioning.
	{Name: Bootstrap, Kind: KindLeaf, CA: CA, CN: "kign:bootstrap", Orgs: []string{"system:masters"},
		Usages: client, File: "bootstrap", Purpose: "applies kign's RBAC at first boot (bootstrap.conf, deleted after use)"},
	{Name: ControllerManager, Kind: KindLeaf, CA: CA, CN: "system:kube-controller-manager",
		Usages: client, File: "controller-manager", Purpose: "controller-manager.conf client"},
	{Name: Scheduler, Kind: KindLeaf, CA: CA, CN: "system:kube-scheduler",
		Usages: client, File: "scheduler", Purpose: "scheduler.conf client"},
	{Name: KubeProxy, Kind: KindLeaf, CA: CA, CN: "system:kube-proxy",
		Usages: client, File: "kube-proxy", Purpose: "kube-proxy.conf client"},

	{Name: FrontProxyClient, Kind: KindLeaf, CA: FrontProxyCA, CN: "front-proxy-client",
		Usages: client, File: "front-proxy-client",
		OnHost: pkiDir + "front-proxy-client", KeyOnHost: true,
		Purpose: "kube-apiserver → aggregated API servers"},

	{Name: EtcdServer, Kind: KindLeaf, CA: EtcdCA, CN: HostPlaceholder, Usages: both, PerHost: true,
		SANs: etcdSANs, File: "etcd-server",
		OnHost: pkiDir + "etcd/server", KeyOnHost: true,
		Purpose: "etcd client-port (2379) serving certificate"},
	{Name: EtcdPeer, Kind: KindLeaf, CA: EtcdCA, CN: HostPlaceholder, Usages: both, PerHost: true,
		SANs: etcdSANs, File: "etcd-peer",
		OnHost: pkiDir + "etcd/peer", KeyOnHost: true,
		Purpose: "etcd peer (2380) certificate, server and client"},
	{Name: EtcdHealthcheckClient, Kind: KindLeaf, CA: EtcdCA, CN: "kube-etcd-healthcheck-client",
		Usages: client, File: "etcd/healthcheck-client",
		OnHost: pkiDir + "etcd/healthcheck-client", KeyOnHost: true,
		Purpose: "etcd liveness probe and etcdctl client"},
	{Name: APIServerEtcdClient, Kind: KindLeaf, CA: EtcdCA, CN: "kube-apiserver-etcd-client",
		Usages: client, File: "apiserver-etcd-client",
		OnHost: pkiDir + "apiserver-etcd-client", KeyOnHost: true,
		Purpose: "kube-apiserver → etcd client"},
	// flannel runs on the host and talks to etcd with the v3 API
	// (flannel-io/flannel#1562), so it needs its own etcd client certificate.
	{Name: FlannelEtcdClient, Kind: KindLeaf, CA: EtcdCA, CN: "flannel",
		Usages: client, File: "etcd/flannel-client",
		OnHost: pkiDir + "etcd/flannel-client", KeyOnHost: true,
		Purpose: "flanneld → etcd client (etcd v3 backend)"},
	// etcd's member add, remove and promote and its snapshots need the root
	// role (EtcdServer.checkMembershipOperationPermission and
	// authMaintenanceServer.isPermitted call AuthStore.IsAdminPermitted):
	// etcd has no narrower permission for them. This user is the one the
	// hosts' etcd-member and etcd-snapshot scripts act as, so that neither
	// borrows kube-apiserver's credential.
	{Name: EtcdMaintenanceClient, Kind: KindLeaf, CA: EtcdCA, CN: "kign:etcd-maintenance",
		Usages: client, File: "etcd/maintenance-client",
		OnHost: pkiDir + "etcd/maintenance-client", KeyOnHost: true,
		Purpose: "etcd membership (join, promote) and snapshots on the masters"},

	// kign serve's certificate: hosts fetch their configs from delivery.url
	// and trust it through the pointer config, which carries ca.crt.
	// ECDSA P-256 always: a boot storm is mostly TLS handshakes, and an
	// ECDSA signature costs a fraction of an RSA-2048 one (BenchmarkBootStorm).
	// The clients are Ignition and iPXE-chained Ignition, Go's crypto/tls,
	// which verifies ECDSA chains under an RSA CA.
	{Name: DeliveryServing, Kind: KindLeaf, CA: CA, CN: "kign-serve", Usages: server, KeyAlgorithm: ECDSA,
		SANs: deliverySANs, File: "delivery/serving", When: hasDeliveryURL,
		Purpose: "kign serve's HTTPS certificate (names delivery.url's host)"},
}

// HostPath is where the row's certificate goes on the hosts (the public key
// for the key pair); "" when it does not go to the hosts as a file.
func (s Spec) HostPath() string {
	switch {
	case s.OnHost == "":
		return ""
	case s.Kind == KindKeyPair:
		return s.OnHost + ".pub"
	}
	return s.OnHost + ".crt"
}

// HostKeyPath is where the row's private key goes on the hosts; "" keeps it
// off them.
func (s Spec) HostKeyPath() string {
	if s.OnHost == "" || !s.KeyOnHost {
		return ""
	}
	return s.OnHost + ".key"
}

// Lookup returns the table row named name.
func Lookup(name string) (Spec, bool) {
	for _, s := range Table {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// CAByAlias returns the CA row that `kign certs adopt --ca alias` names:
// kubernetes, etcd or front-proxy (the row names ca, etcd-ca and
// front-proxy-ca are accepted too).
func CAByAlias(alias string) (Spec, bool) {
	for _, s := range Table {
		if s.Kind == KindCA && (s.Alias == alias || s.Name == alias) {
			return s, true
		}
	}
	return Spec{}, false
}

// CommonName is the subject CN of the row for host (ignored by cluster-wide rows).
func (s Spec) CommonName(host string) string {
	return strings.ReplaceAll(s.CN, HostPlaceholder, host)
}

// WantSANs returns the row's SANs for host h of p, sorted and without duplicates.
func (s Spec) WantSANs(p *plan.Plan, h plan.Host) (dns []string, ips []netip.Addr) {
	if s.SANs == nil {
		return nil, nil
	}
	dns, ips = s.SANs(p, h)
	return normDNS(dns), normIPs(ips)
}

// apiserverSANs: every name and address a client may dial the apiserver by
// (kubeadm's GetAPIServerAltNames): the in-cluster service names and the
// first address of the service CIDR, the VIP, the host itself and loopback,
// plus apiServer.extraSANs.
func apiserverSANs(p *plan.Plan, h plan.Host) ([]string, []netip.Addr) {
	dns := []string{h.Name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + p.Domain}
	dns = append(dns, p.ExtraSANDNS...)
	ips := []netip.Addr{p.APIServerServiceIP, p.VIP, h.IP, netip.MustParseAddr("127.0.0.1")}
	ips = append(ips, p.ExtraSANIPs...)
	return dns, ips
}

// etcdSANs name only this host, so one member's certificate cannot serve
// as another's (the seed put every member's IP into one server certificate).
func hasDeliveryURL(p *plan.Plan) bool { return p.DeliveryURL != "" }

// deliverySANs names the host of delivery.url: an IP SAN for an address, a
// DNS SAN for a name.
func deliverySANs(p *plan.Plan, _ plan.Host) ([]string, []netip.Addr) {
	u, err := url.Parse(p.DeliveryURL)
	if err != nil || u.Hostname() == "" {
		return nil, nil
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, []netip.Addr{ip}
	}
	return []string{u.Hostname()}, nil
}

func etcdSANs(_ *plan.Plan, h plan.Host) ([]string, []netip.Addr) {
	return []string{h.Name, "localhost"}, []netip.Addr{h.IP, netip.MustParseAddr("127.0.0.1")}
}

// kubeletSANs: the apiserver reaches a kubelet by its node address.
func kubeletSANs(_ *plan.Plan, h plan.Host) ([]string, []netip.Addr) {
	return []string{h.Name}, []netip.Addr{h.IP}
}

func normDNS(in []string) []string {
	out := make([]string, 0, len(in))
	for _, d := range in {
		if d = strings.ToLower(strings.TrimSuffix(d, ".")); d != "" {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func normIPs(in []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(in))
	for _, a := range in {
		if a.IsValid() {
			out = append(out, a.Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}
