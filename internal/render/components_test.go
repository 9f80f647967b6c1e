package render

import (
	"slices"
	"strings"
	"testing"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/inventory"
)

func TestKubeletConfig(t *testing.T) {
	p := testPlan(t, 3)
	p.MaxPods = 61
	data, err := KubeletConfig(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	var c kubeletconfigv1beta1.KubeletConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	boolIs := func(b *bool, want bool) bool { return b != nil && *b == want }
	tests := []struct {
		name string
		ok   bool
	}{
		{"apiVersion", c.APIVersion == "kubelet.config.k8s.io/v1beta1" && c.Kind == "KubeletConfiguration"},
		{"staticPodPath", c.StaticPodPath == "/etc/kubernetes/manifests"},
		{"clusterDNS", slices.Equal(c.ClusterDNS, []string{"10.96.0.10"})},
		{"clusterDomain", c.ClusterDomain == "cluster.local"},
		{"x509 client CA", c.Authentication.X509.ClientCAFile == "/etc/kubernetes/pki/ca.crt"},
		{"webhook authn", boolIs(c.Authentication.Webhook.Enabled, true)},
		{"no anonymous", boolIs(c.Authentication.Anonymous.Enabled, false)},
		{"authz webhook", c.Authorization.Mode == kubeletconfigv1beta1.KubeletAuthorizationModeWebhook},
		{"cgroupDriver", c.CgroupDriver == "systemd"},
		{"runtime", c.ContainerRuntimeEndpoint == "unix:///run/containerd/containerd.sock"},
		{"maxPods from plan", c.MaxPods == 61},
		{"serving cert", c.TLSCertFile == "/var/lib/kubelet/pki/kubelet.crt" && c.TLSPrivateKeyFile == "/var/lib/kubelet/pki/kubelet.key"},
		{"client rotation, no serving bootstrap", c.RotateCertificates && !c.ServerTLSBootstrap},
		{"read-only port off", c.ReadOnlyPort == 0},
		{"resolv.conf", c.ResolverConfig != nil && *c.ResolverConfig == "/run/systemd/resolve/resolv.conf"},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: wrong in\n%s", tt.name, data)
		}
	}
	p.MaxPods = 0
	if _, err := KubeletConfig(p, p.Hosts[0]); err == nil {
		t.Error("maxPods 0 accepted")
	}
}

func TestKubeletArgs(t *testing.T) {
	p := testPlan(t, 3)
	got := KubeletArgs(p, p.Hosts[2])
	want := []string{
		"--config=/var/lib/kubelet/config.yaml",
		"--hostname-override=master3",
		"--kubeconfig=/etc/kubernetes/kubelet.conf",
		"--node-ip=10.0.0.13",
	}
	if !slices.Equal(got, want) {
		t.Errorf("KubeletArgs = %q, want %q", got, want)
	}
}

func TestProxyConfig(t *testing.T) {
	p := testPlan(t, 3)
	h := p.Hosts[1]
	data, err := ProxyConfig(p, h)
	if err != nil {
		t.Fatal(err)
	}
	var c kubeproxyconfigv1alpha1.KubeProxyConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	if c.APIVersion != "kubeproxy.config.k8s.io/v1alpha1" || c.Kind != "KubeProxyConfiguration" {
		t.Errorf("type %s/%s", c.APIVersion, c.Kind)
	}
	// The seed passed the service CIDR; kube-proxy wants the pod network.
	if c.ClusterCIDR != p.PodCIDR.String() || c.ClusterCIDR == p.ServiceCIDR.String() {
		t.Errorf("clusterCIDR %q, want the pod CIDR %s", c.ClusterCIDR, p.PodCIDR)
	}
	if c.Mode != "iptables" || c.HostnameOverride != "master2" || c.ClientConnection.Kubeconfig != ProxyKubeconfig {
		t.Errorf("mode %q, hostnameOverride %q, kubeconfig %q", c.Mode, c.HostnameOverride, c.ClientConnection.Kubeconfig)
	}
	// The files the config names are mounted in kube-proxy's pod.
	pod := podsByName(t, p, h)["kube-proxy"]
	for _, path := range []string{c.ClientConnection.Kubeconfig, ProxyConfigFile, XtablesLock, LibModules} {
		if !mountedAt(pod, path) {
			t.Errorf("kube-proxy pod does not mount %s", path)
		}
	}
	if sc := pod.Spec.Containers[0].SecurityContext; sc == nil || sc.Privileged == nil || !*sc.Privileged {
		t.Error("kube-proxy is not privileged")
	}
}

func TestAuthenticationConfig(t *testing.T) {
	data, err := AuthenticationConfig(testPlan(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	const want = `anonymous:
  conditions:
  - path: /livez
  - path: /readyz
  - path: /healthz
  enabled: true
apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
`
	if string(data) != want {
		t.Errorf("AuthenticationConfig =\n%s\nwant\n%s", data, want)
	}
	var c authenticationConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatal(err)
	}
	if c.Anonymous == nil || !c.Anonymous.Enabled || len(c.Anonymous.Conditions) != 3 {
		t.Errorf("anonymous %+v", c.Anonymous)
	}
	for _, cond := range c.Anonymous.Conditions {
		if !strings.HasPrefix(cond.Path, "/") || strings.Contains(cond.Path, "*") {
			t.Errorf("condition path %q is not one exact health endpoint", cond.Path)
		}
	}
}

// The inventory's JWT authenticators go into the file beside kign's
// anonymous section, which kube-apiserver decodes strictly.
func TestAuthenticationConfigJWT(t *testing.T) {
	inv := parseCluster(t, `  apiServer:
    vip: 192.168.1.10
    authentication:
      jwt:
        - issuer: {url: "https://id.example.com", audiences: [kubernetes]}
          claimMappings: {username: {claim: email, prefix: "oidc:"}, groups: {claim: groups, prefix: "oidc:"}}
`)
	p := testPlan(t, 3)
	p.APIServerAuthentication = inv.Cluster.APIServer.Authentication
	data, err := AuthenticationConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	var c apiserverv1.AuthenticationConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, data)
	}
	if len(c.JWT) != 1 || c.JWT[0].Issuer.URL != "https://id.example.com" || c.JWT[0].ClaimMappings.Username.Claim != "email" ||
		c.JWT[0].ClaimMappings.Groups.Prefix == nil || *c.JWT[0].ClaimMappings.Groups.Prefix != "oidc:" || c.Anonymous == nil || !c.Anonymous.Enabled {
		t.Errorf("authentication config:\n%s", data)
	}
}

// parseCluster loads a one-host inventory whose cluster section ends with
// lines (indented by two spaces, as under cluster:), failing on any problem.
func parseCluster(t *testing.T, lines string) *inventory.Inventory {
	t.Helper()
	inv, rep := inventory.Parse("hosts.yaml", []byte(`cluster:
  name: c1
  serviceCIDR: 10.96.0.0/12
  podCIDR: 10.244.0.0/16
  interface: eth0
`+lines+`hosts:
  - {name: m0, ip: 192.168.1.11}
artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
`))
	if rep.HasErrors() {
		t.Fatal(rep)
	}
	return inv
}
