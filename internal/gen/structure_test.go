package gen

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudflare/cfssl/helpers"
	toml "github.com/pelletier/go-toml"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	proxyv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

// TestStructure checks, on both example clusters and for every host, each
// point kign promises about a host's config.
func TestStructure(t *testing.T) {
	for _, path := range examples {
		p, b, res := generate(t, path)
		for _, hc := range res.Hosts {
			t.Run(p.ClusterName+"/"+hc.Host.Name, func(t *testing.T) {
				checkHost(t, p, b, hc)
			})
		}
	}
}

func checkHost(t *testing.T, p *plan.Plan, b *pki.Bundle, hc HostConfig) {
	h := hc.Host
	ph := parseIgnition(t, hc.Ignition)
	wantSpec := map[string]string{"fcos": "3.5.0", "flatcar": "3.4.0"}[p.OS.Name]
	if ph.Raw.Ignition.Version != wantSpec {
		t.Errorf("ignition version %s, want %s for %s", ph.Raw.Ignition.Version, wantSpec, p.OS.Name)
	}
	if got := string(ph.Files["/etc/hostname"].Data); got != h.Name {
		t.Errorf("/etc/hostname = %q", got)
	}
	// Keys and kubeconfigs are 0600.
	for _, f := range ph.Files {
		if (strings.HasSuffix(f.Path, ".key") || strings.HasSuffix(f.Path, ".conf") && strings.HasPrefix(f.Path, "/etc/kubernetes/")) && f.Mode != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", f.Path, f.Mode)
		}
	}
	pods := decodePods(t, ph)
	checkFlagPaths(t, ph, pods)
	checkFlags(t, p, h, pods)
	checkCertificates(t, p, h, ph, pods)
	checkKubeconfigs(t, p, h, ph, pods)
	checkComponentConfigs(t, p, h, ph)
	checkKeepalived(t, p, h, ph)
	checkFlannel(t, p, h, ph)
	checkDownloads(t, p, ph)
	checkHardening(t, p, h, ph, pods)
	checkRegistry(t, p, ph)
}

// checkRegistry: with artifacts.imageRegistryCA, containerd reads
// certs.d, whose hosts.toml for the registry's host names the CA file
// holding exactly the inventory's CA; without it, no certs.d files.
func checkRegistry(t *testing.T, p *plan.Plan, ph parsedHost) {
	var cfg struct {
		Plugins map[string]struct {
			Registry *struct {
				ConfigPath string `toml:"config_path"`
			} `toml:"registry"`
		} `toml:"plugins"`
	}
	if err := toml.Unmarshal(ph.Files[render.ContainerdConfigFile].Data, &cfg); err != nil {
		t.Fatalf("containerd config: %v", err)
	}
	reg := cfg.Plugins["io.containerd.cri.v1.images"].Registry
	var certsFiles []string
	for path := range ph.Files {
		if strings.HasPrefix(path, render.ContainerdCertsDir+"/") {
			certsFiles = append(certsFiles, path)
		}
	}
	if p.Registry.CA == "" {
		if reg != nil || len(certsFiles) > 0 {
			t.Errorf("no imageRegistryCA, but containerd registry %+v and files %v", reg, certsFiles)
		}
		return
	}
	if reg == nil || reg.ConfigPath != render.ContainerdCertsDir {
		t.Fatalf("containerd registry config %+v, want config_path %s", reg, render.ContainerdCertsDir)
	}
	dir := render.ContainerdCertsDir + "/" + p.Registry.Host
	var hosts struct {
		Server string `toml:"server"`
		Host   map[string]struct {
			Capabilities []string `toml:"capabilities"`
			CA           string   `toml:"ca"`
		} `toml:"host"`
	}
	if err := toml.Unmarshal(ph.Files[dir+"/hosts.toml"].Data, &hosts); err != nil {
		t.Fatalf("%s/hosts.toml: %v", dir, err)
	}
	server := "https://" + p.Registry.Host
	hc, ok := hosts.Host[server]
	if hosts.Server != server || !ok || len(hosts.Host) != 1 || !slices.Equal(hc.Capabilities, []string{"pull", "resolve"}) {
		t.Errorf("%s/hosts.toml = %+v, want server and one host %s that pulls and resolves", dir, hosts, server)
	}
	if ca := ph.Files[hc.CA]; hc.CA != dir+"/ca.crt" || string(ca.Data) != p.Registry.CA || ca.Mode != 0o644 {
		t.Errorf("hosts.toml ca %q: file %q mode %#o, want %s/ca.crt with the inventory's CA", hc.CA, ca.Data, ca.Mode, dir)
	}
	if len(certsFiles) != 2 {
		t.Errorf("certs.d files %v, want hosts.toml and ca.crt", certsFiles)
	}
}

func decodePods(t *testing.T, ph parsedHost) map[string]*corev1.Pod {
	pods := map[string]*corev1.Pod{}
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "keepalived"} {
		f, ok := ph.Files[filepath.Join(render.ManifestsDir, name+".yaml")]
		if !ok {
			t.Errorf("no manifest for %s", name)
			continue
		}
		var pod corev1.Pod
		if err := yaml.UnmarshalStrict(f.Data, &pod); err != nil {
			t.Errorf("%s does not strictly decode as a corev1.Pod: %v", f.Path, err)
			continue
		}
		if pod.Kind != "Pod" || pod.APIVersion != "v1" || pod.Namespace != "kube-system" || !pod.Spec.HostNetwork {
			t.Errorf("%s: kind %q apiVersion %q namespace %q hostNetwork %v", name, pod.Kind, pod.APIVersion, pod.Namespace, pod.Spec.HostNetwork)
		}
		pods[name] = &pod
	}
	return pods
}

// runtimePaths exist on the machine, not in the config: the OS's kernel
// modules, and the lock file kube-proxy shares with iptables (FileOrCreate).
var runtimePaths = []string{"/lib/modules", "/run/xtables.lock"}

// checkFlagPaths: every file a flag names exists in the config.
func checkFlagPaths(t *testing.T, ph parsedHost, pods map[string]*corev1.Pod) {
	dirs := map[string]bool{}
	for _, d := range ph.Raw.Storage.Directories {
		dirs[d.Path] = true
	}
	for name, pod := range pods {
		for _, fp := range render.FlagPaths(pod) {
			// A file the component writes itself (the audit log) lies in a
			// folder the config makes.
			if _, ok := ph.Files[fp]; ok || dirs[fp] || dirs[path.Dir(fp)] || slices.Contains(runtimePaths, fp) {
				continue
			}
			t.Errorf("%s: flag path %s is not in the config", name, fp)
		}
	}
}

func flags(pod *corev1.Pod) map[string]string {
	out := map[string]string{}
	c := pod.Spec.Containers[0]
	for _, a := range append(slices.Clone(c.Command), c.Args...) {
		if k, v, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); ok && strings.HasPrefix(a, "--") {
			out[k] = v
		}
	}
	return out
}

// checkFlags: flags agree with the inventory.
func checkFlags(t *testing.T, p *plan.Plan, h plan.Host, pods map[string]*corev1.Pod) {
	etcdURLs := strings.Join(p.EtcdClientEndpoints, ",")
	want := map[string]map[string]string{
		"etcd": {
			"name": h.Name, "initial-cluster": p.EtcdInitialCluster, "initial-cluster-token": p.EtcdToken,
			"initial-cluster-state": "new", "advertise-client-urls": fmt.Sprintf("https://%s:2379", h.IP),
			"initial-advertise-peer-urls": fmt.Sprintf("https://%s:2380", h.IP), "client-cert-auth": "true",
			"peer-client-cert-auth": "true", "data-dir": "/var/lib/etcd",
		},
		"kube-apiserver": {
			"advertise-address": h.IP.String(), "secure-port": strconv.Itoa(p.APIServerPort),
			"service-cluster-ip-range": p.ServiceCIDR.String(), "etcd-servers": etcdURLs,
			"authorization-mode": "Node,RBAC", "enable-admission-plugins": "NodeRestriction",
			"service-account-issuer": "https://kubernetes.default.svc." + p.Domain,
		},
		"kube-controller-manager": {
			// flannel's etcd leases own the node subnets, not the controller-manager.
			"cluster-cidr": "", "node-cidr-mask-size": "",
			"allocate-node-cidrs": "false", "leader-elect": "true", "service-cluster-ip-range": p.ServiceCIDR.String(),
			"cluster-name": p.ClusterName,
		},
		"kube-scheduler": {"leader-elect": "true"},
	}
	for pod, kv := range want {
		got := flags(pods[pod])
		for k, v := range kv {
			if got[k] != v {
				t.Errorf("%s --%s = %q, want %q", pod, k, got[k], v)
			}
		}
	}
	for pod, banned := range map[string][]string{
		"kube-apiserver":          {"insecure-port", "admission-control", "anonymous-auth", "experimental-bootstrap-token-auth", "token-auth-file", "enable-swagger-ui"},
		"kube-controller-manager": {"master", "port"},
		"kube-scheduler":          {"master", "port"},
	} {
		got := flags(pods[pod])
		for _, k := range banned {
			if _, ok := got[k]; ok {
				t.Errorf("%s carries removed or unsafe flag --%s", pod, k)
			}
		}
	}
	for name, pod := range pods {
		im, _ := p.Artifacts.Image(map[string]string{"etcd": catalog.ImageEtcd, "keepalived": catalog.ImageKeepalived}[name])
		if name != "etcd" && name != "keepalived" {
			im, _ = p.Artifacts.Image(name)
		}
		if pod.Spec.Containers[0].Image != im.Ref {
			t.Errorf("%s image %s, want %s", name, pod.Spec.Containers[0].Image, im.Ref)
		}
	}
}

type certCheck struct {
	pod, cert, key, ca string // flag names, or "@/path" for a fixed path
	usage              x509.ExtKeyUsage
	ips                []netip.Addr
	dns                []string
}

// checkCertificates: every certificate a flag names verifies against the
// right CA for its usage, with the right SANs, and its key matches.
func checkCertificates(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost, pods map[string]*corev1.Pod) {
	apiserverIPs := append([]netip.Addr{h.IP, p.VIP, p.APIServerServiceIP, netip.MustParseAddr("127.0.0.1")}, p.ExtraSANIPs...)
	apiserverDNS := append([]string{"kubernetes", "kubernetes.default.svc." + p.Domain, h.Name}, p.ExtraSANDNS...)
	checks := []certCheck{
		{pod: "kube-apiserver", cert: "tls-cert-file", key: "tls-private-key-file", ca: "client-ca-file", usage: x509.ExtKeyUsageServerAuth, ips: apiserverIPs, dns: apiserverDNS},
		{pod: "kube-apiserver", cert: "etcd-certfile", key: "etcd-keyfile", ca: "etcd-cafile", usage: x509.ExtKeyUsageClientAuth},
		{pod: "kube-apiserver", cert: "kubelet-client-certificate", key: "kubelet-client-key", ca: "client-ca-file", usage: x509.ExtKeyUsageClientAuth},
		{pod: "kube-apiserver", cert: "proxy-client-cert-file", key: "proxy-client-key-file", ca: "requestheader-client-ca-file", usage: x509.ExtKeyUsageClientAuth},
		{pod: "etcd", cert: "cert-file", key: "key-file", ca: "trusted-ca-file", usage: x509.ExtKeyUsageServerAuth, ips: []netip.Addr{h.IP, netip.MustParseAddr("127.0.0.1")}},
		{pod: "etcd", cert: "peer-cert-file", key: "peer-key-file", ca: "peer-trusted-ca-file", usage: x509.ExtKeyUsageServerAuth, ips: []netip.Addr{h.IP}},
		{pod: "etcd", cert: "peer-cert-file", key: "peer-key-file", ca: "peer-trusted-ca-file", usage: x509.ExtKeyUsageClientAuth},
		{pod: "kube-controller-manager", cert: "@" + render.CACert, key: "cluster-signing-key-file", ca: "@" + render.CACert, usage: x509.ExtKeyUsageAny},
		{pod: "kube-apiserver", cert: "@" + render.FlannelEtcdClientCert, key: "@" + render.FlannelEtcdClientKey, ca: "etcd-cafile", usage: x509.ExtKeyUsageClientAuth},
		{pod: "kube-apiserver", cert: "@/var/lib/kubelet/pki/kubelet.crt", key: "@/var/lib/kubelet/pki/kubelet.key", ca: "client-ca-file", usage: x509.ExtKeyUsageServerAuth, ips: []netip.Addr{h.IP}},
	}
	for _, c := range checks {
		fl := flags(pods[c.pod])
		path := func(ref string) string {
			if strings.HasPrefix(ref, "@") {
				return ref[1:]
			}
			return fl[ref]
		}
		certPath, keyPath, caPath := path(c.cert), path(c.key), path(c.ca)
		cert := parseCert(t, ph, certPath)
		caCert := parseCert(t, ph, caPath)
		if cert == nil || caCert == nil {
			continue
		}
		if !cert.IsCA {
			pool := x509.NewCertPool()
			pool.AddCert(caCert)
			opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{c.usage}, CurrentTime: testNow}
			if _, err := cert.Verify(opts); err != nil {
				t.Errorf("%s %s (%s) does not verify against %s for %v: %v", c.pod, c.cert, certPath, caPath, c.usage, err)
			}
		}
		for _, ip := range c.ips {
			if !slices.ContainsFunc(cert.IPAddresses, func(x net.IP) bool { a, _ := netip.AddrFromSlice(x); return a.Unmap() == ip }) {
				t.Errorf("%s lacks IP SAN %s (has %v)", certPath, ip, cert.IPAddresses)
			}
		}
		for _, d := range c.dns {
			if !slices.Contains(cert.DNSNames, d) {
				t.Errorf("%s lacks DNS SAN %s (has %v)", certPath, d, cert.DNSNames)
			}
		}
		keyFile, ok := ph.Files[keyPath]
		if !ok {
			t.Errorf("key %s not in config", keyPath)
			continue
		}
		if err := matchKey(cert, keyFile.Data); err != nil {
			t.Errorf("%s does not match %s: %v", keyPath, certPath, err)
		}
	}
	// The etcd server certificate names this host only.
	if cert := parseCert(t, ph, render.EtcdServerCert); cert != nil {
		for _, other := range p.Hosts {
			if other.Name != h.Name && (slices.Contains(cert.DNSNames, other.Name) || slices.ContainsFunc(cert.IPAddresses, func(x net.IP) bool { a, _ := netip.AddrFromSlice(x); return a.Unmap() == other.IP })) {
				t.Errorf("etcd server certificate of %s names %s", h.Name, other.Name)
			}
		}
	}
}

func parseCert(t *testing.T, ph parsedHost, path string) *x509.Certificate {
	f, ok := ph.Files[path]
	if !ok {
		t.Errorf("certificate %s not in config", path)
		return nil
	}
	c, err := helpers.ParseCertificatePEM(f.Data)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	return c
}

func matchKey(cert *x509.Certificate, keyPEM []byte) error {
	key, err := helpers.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	certPub, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
	if err != nil {
		return err
	}
	if !bytes.Equal(pub, certPub) {
		return fmt.Errorf("public keys differ")
	}
	return nil
}

// checkKubeconfigs: each kubeconfig trusts the cluster CA, points at the
// right server, and carries a client certificate the apiserver accepts,
// with the identity the component needs.
func checkKubeconfigs(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost, pods map[string]*corev1.Pod) {
	caPEM := ph.Files[flags(pods["kube-apiserver"])["client-ca-file"]].Data
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, k := range []struct{ path, server, cn, org string }{
		{render.KubeletKubeconfig, p.APIServerEndpoint(), "system:node:" + h.Name, "system:nodes"},
		{render.ControllerManagerKubeconfig, p.LocalAPIServerEndpoint(), "system:kube-controller-manager", ""},
		{render.SchedulerKubeconfig, p.LocalAPIServerEndpoint(), "system:kube-scheduler", ""},
		{render.ProxyKubeconfig, p.APIServerEndpoint(), "system:kube-proxy", ""},
		{render.AddonManagerKubeconfig, p.LocalAPIServerEndpoint(), "kign:addon-manager", ""},
		{render.BootstrapKubeconfig, p.LocalAPIServerEndpoint(), "kign:bootstrap", "system:masters"},
	} {
		f, ok := ph.Files[k.path]
		if !ok {
			t.Errorf("no %s", k.path)
			continue
		}
		cfg, err := clientcmd.Load(f.Data)
		if err != nil {
			t.Errorf("%s: %v", k.path, err)
			continue
		}
		ctx := cfg.Contexts[cfg.CurrentContext]
		cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
		if cluster.Server != k.server || !bytes.Equal(cluster.CertificateAuthorityData, caPEM) {
			t.Errorf("%s: server %s (want %s), CA matches: %v", k.path, cluster.Server, k.server, bytes.Equal(cluster.CertificateAuthorityData, caPEM))
		}
		certPEM, keyPEM := user.ClientCertificateData, user.ClientKeyData
		if user.ClientCertificate != "" {
			// The kubelet's pair is a file, behind the link it rotates.
			if user.ClientCertificate != render.KubeletClientCurrent || user.ClientKey != render.KubeletClientCurrent {
				t.Errorf("%s: client certificate %s, key %s, want both %s", k.path, user.ClientCertificate, user.ClientKey, render.KubeletClientCurrent)
			}
			pair := ph.Files[render.KubeletClientPair]
			if pair.Mode != 0o600 {
				t.Errorf("%s: mode %o, want 0600", render.KubeletClientPair, pair.Mode)
			}
			// Certificate first, then the key.
			block, rest := pem.Decode(pair.Data)
			if block == nil || block.Type != "CERTIFICATE" {
				t.Errorf("%s: does not start with a certificate", render.KubeletClientPair)
				continue
			}
			certPEM, keyPEM = pem.EncodeToMemory(block), rest
		}
		cert, err := helpers.ParseCertificatePEM(certPEM)
		if err != nil {
			t.Errorf("%s: %v", k.path, err)
			continue
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: testNow}); err != nil {
			t.Errorf("%s: client certificate: %v", k.path, err)
		}
		if cert.Subject.CommonName != k.cn || (k.org != "" && !slices.Contains(cert.Subject.Organization, k.org)) {
			t.Errorf("%s: subject %v, want CN %s O %s", k.path, cert.Subject, k.cn, k.org)
		}
		if err := matchKey(cert, keyPEM); err != nil {
			t.Errorf("%s: %v", k.path, err)
		}
	}
}

func checkComponentConfigs(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost) {
	var kc kubeletv1beta1.KubeletConfiguration
	if err := yaml.UnmarshalStrict(ph.Files[render.KubeletConfigFile].Data, &kc); err != nil {
		t.Fatalf("kubelet config: %v", err)
	}
	if !slices.Equal(kc.ClusterDNS, []string{p.DNSServiceIP.String()}) || kc.ClusterDomain != p.Domain || kc.MaxPods != int32(p.MaxPods) ||
		kc.StaticPodPath != render.ManifestsDir || kc.CgroupDriver != "systemd" || kc.ContainerRuntimeEndpoint != render.ContainerdSocket {
		t.Errorf("kubelet config disagrees with the plan: dns %v domain %s maxPods %d static %s cgroup %s runtime %s", kc.ClusterDNS, kc.ClusterDomain, kc.MaxPods, kc.StaticPodPath, kc.CgroupDriver, kc.ContainerRuntimeEndpoint)
	}
	if kc.Authentication.Anonymous.Enabled == nil || *kc.Authentication.Anonymous.Enabled || kc.Authentication.Webhook.Enabled == nil || !*kc.Authentication.Webhook.Enabled || kc.Authorization.Mode != "Webhook" {
		t.Error("kubelet must have anonymous off, webhook authentication and authorization")
	}
	if _, ok := ph.Files[kc.Authentication.X509.ClientCAFile]; !ok {
		t.Errorf("kubelet clientCAFile %s not in config", kc.Authentication.X509.ClientCAFile)
	}
	unit := ph.Units["kubelet.service"]
	for _, want := range []string{"--node-ip=" + h.IP.String(), "--config=" + render.KubeletConfigFile, "--kubeconfig=" + render.KubeletKubeconfig} {
		if !strings.Contains(unit, want) {
			t.Errorf("kubelet.service lacks %s", want)
		}
	}
	var pc proxyv1alpha1.KubeProxyConfiguration
	if err := yaml.UnmarshalStrict(ph.Files[render.ProxyConfigFile].Data, &pc); err != nil {
		t.Fatalf("kube-proxy config: %v", err)
	}
	if pc.ClusterCIDR != p.PodCIDR.String() {
		t.Errorf("kube-proxy clusterCIDR %s, want the pod CIDR %s (the guide used the service CIDR)", pc.ClusterCIDR, p.PodCIDR)
	}
}

var (
	rePeer     = regexp.MustCompile(`(?s)unicast_peer\s*\{([^}]*)\}`)
	rePriority = regexp.MustCompile(`\bpriority\s+(\d+)`)
	reIface    = regexp.MustCompile(`\binterface\s+(\S+)`)
	reVRID     = regexp.MustCompile(`\bvirtual_router_id\s+(\d+)`)
)

func checkKeepalived(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost) {
	conf := string(ph.Files[render.KeepalivedConfigFile].Data)
	var peers []string
	if m := rePeer.FindStringSubmatch(conf); m != nil {
		peers = strings.Fields(m[1])
	}
	var want []string
	for _, o := range p.Hosts {
		if o.Name != h.Name {
			want = append(want, o.IP.String())
		}
	}
	if !slices.Equal(peers, want) {
		t.Errorf("keepalived peers %v, want %v", peers, want)
	}
	if m := rePriority.FindStringSubmatch(conf); m == nil || m[1] != strconv.Itoa(h.KeepalivedPriority) {
		t.Errorf("keepalived priority %v, want %d", m, h.KeepalivedPriority)
	}
	if m := reIface.FindStringSubmatch(conf); m == nil || m[1] != h.Interface {
		t.Errorf("keepalived interface %v, want %s", m, h.Interface)
	}
	if m := reVRID.FindStringSubmatch(conf); m == nil || m[1] != strconv.Itoa(p.Keepalived.VirtualRouterID) {
		t.Errorf("virtual_router_id %v, want %d", m, p.Keepalived.VirtualRouterID)
	}
	if !strings.Contains(conf, p.VIP.String()) || !strings.Contains(conf, "unicast_src_ip "+h.IP.String()) {
		t.Error("keepalived.conf lacks the VIP or this host's unicast_src_ip")
	}
	script := string(ph.Files[render.KeepalivedCheckScript].Data)
	if !strings.Contains(script, fmt.Sprintf("https://127.0.0.1:%d/", p.APIServerPort)) || strings.Contains(script, p.VIP.String()) {
		t.Errorf("check script must probe the local apiserver, never the VIP:\n%s", script)
	}
}

func checkFlannel(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost) {
	var nc struct {
		Network   string
		SubnetLen int
		Backend   struct{ Type string }
	}
	if err := json.Unmarshal(ph.Files[render.FlannelNetConfFile].Data, &nc); err != nil {
		t.Fatal(err)
	}
	if nc.Network != p.PodCIDR.String() || nc.SubnetLen != p.NodeCIDRMaskSize || nc.Backend.Type != "vxlan" {
		t.Errorf("flannel net-conf %+v, want Network %s SubnetLen %d vxlan", nc, p.PodCIDR, p.NodeCIDRMaskSize)
	}
	// flanneld selects the host's interface by the host's address (by name
	// it could pick up the VIP keepalived adds to the same interface).
	unit := ph.Units["flanneld.service"]
	for _, want := range []string{"--iface=" + h.IP.String(), "EnvironmentFile=" + render.FlanneldEnvFile} {
		if !strings.Contains(unit, want) {
			t.Errorf("flanneld.service lacks %s", want)
		}
	}
	if env := string(ph.Files[render.FlanneldEnvFile].Data); env != "FLANNELD_ETCD_ENDPOINTS="+strings.Join(p.EtcdClientEndpoints, ",")+"\n" {
		t.Errorf("flanneld.env = %q", env)
	}
	if !strings.Contains(ph.Units["flannel-netconf.service"], "StandardInput=file:"+render.FlannelNetConfFile) {
		t.Error("flannel-netconf.service does not feed net-conf.json to etcdctl")
	}
	if _, ok := ph.Files[render.CNIConfFile]; !ok {
		t.Error("no CNI network config")
	}
}

func checkDownloads(t *testing.T, p *plan.Plan, ph parsedHost) {
	for path, name := range map[string]string{render.KubeletBin(p.OS): catalog.Kubelet, render.CNIPluginsTarball: catalog.CNIPlugins, render.EtcdTarball: catalog.Etcd, render.FlanneldBin(p.OS): catalog.Flanneld, render.FlannelCNIBin: catalog.FlannelCNIPlugin} {
		f, ok := ph.Files[path]
		a, _ := p.Artifacts.File(name)
		if !ok || f.Source != a.URL {
			t.Errorf("%s: source %q, want %q", path, f.Source, a.URL)
			continue
		}
		want := ""
		if a.SHA256 != "" {
			want = "sha256-" + a.SHA256
		}
		if f.Hash != want {
			t.Errorf("%s: hash %q, want %q", path, f.Hash, want)
		}
	}
	if !strings.Contains(ph.Units["cni-plugins-install.service"], render.CNIPluginsTarball) || !strings.Contains(ph.Units["cni-plugins-install.service"], "Before=kubelet.service") {
		t.Error("cni-plugins-install.service must unpack the tarball before kubelet")
	}
}

// TestNoForeignKeys: no host's per-host private key appears, raw or
// base64-embedded, anywhere in another host's config.
func TestNoForeignKeys(t *testing.T) {
	for _, path := range examples {
		p, b, res := generate(t, path)
		for _, hc := range res.Hosts {
			ph := parseIgnition(t, hc.Ignition)
			var all bytes.Buffer
			for _, f := range ph.Files {
				all.Write(f.Data)
			}
			all.Write(hc.Ignition)
			for _, other := range p.Hosts {
				for _, s := range pki.Table {
					if !s.PerHost {
						continue
					}
					kp, ok := b.Get(s.Name, other.Name)
					if !ok {
						t.Fatalf("no %s for %s", s.Name, other.Name)
					}
					block, _ := pem.Decode(kp.KeyPEM)
					needles := [][]byte{kp.KeyPEM, []byte(base64.StdEncoding.EncodeToString(kp.KeyPEM)), block.Bytes}
					present := false
					for _, n := range needles {
						present = present || bytes.Contains(all.Bytes(), n)
					}
					if other.Name == hc.Host.Name && !present && s.Name != pki.KubeletClient {
						t.Errorf("%s: its own %s key is missing", hc.Host.Name, s.Name)
					}
					if other.Name != hc.Host.Name && present {
						t.Errorf("%s's config holds %s's %s key", hc.Host.Name, other.Name, s.Name)
					}
				}
			}
		}
	}
}

// TestDeterministic: the same inventory and bundle give byte-identical output.
func TestDeterministic(t *testing.T) {
	for _, path := range examples {
		_, _, a := generate(t, path)
		_, _, b := generate(t, path)
		if len(a.Files) != len(b.Files) {
			t.Fatalf("%s: %d vs %d files", path, len(a.Files), len(b.Files))
		}
		for i := range a.Files {
			if a.Files[i].Path != b.Files[i].Path || !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
				t.Errorf("%s: %s differs between two runs", path, a.Files[i].Path)
			}
		}
	}
}
