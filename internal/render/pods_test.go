package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/osvariant"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// testPlan builds a plan of n masters on 10.0.0.11.. with the VIP 10.0.0.100.
// The addresses are never contacted.
func testPlan(t testing.TB, n int) *plan.Plan {
	t.Helper()
	set, err := catalog.Lookup("v1.36.4", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{
		ClusterName:        "test",
		OS:                 osvariant.MustLookup("fcos"),
		KubernetesVersion:  "v1.36.4",
		Domain:             "cluster.local",
		ServiceCIDR:        netip.MustParsePrefix("10.96.0.0/12"),
		PodCIDR:            netip.MustParsePrefix("10.244.0.0/16"),
		NodeCIDRMaskSize:   24,
		APIServerServiceIP: netip.MustParseAddr("10.96.0.1"),
		DNSServiceIP:       netip.MustParseAddr("10.96.0.10"),
		VIP:                netip.MustParseAddr("10.0.0.100"),
		APIServerPort:      6443,
		MaxPods:            110,
		EtcdToken:          "kign-test",
		Keepalived:         plan.Keepalived{VirtualRouterID: 42, Password: "s3cr3t00", VIPPrefixLen: 32},
		Artifacts:          set,
	}
	var initial []string
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(11 + i)})
		h := plan.Host{
			Index:              i,
			Name:               fmt.Sprintf("master%d", i+1),
			IP:                 ip,
			Interface:          "eth0",
			KeepalivedPriority: plan.TopPriority - i,
		}
		p.Hosts = append(p.Hosts, h)
		initial = append(initial, fmt.Sprintf("%s=https://%s:2380", h.Name, ip))
		p.EtcdClientEndpoints = append(p.EtcdClientEndpoints, fmt.Sprintf("https://%s:2379", ip))
	}
	p.EtcdInitialCluster = strings.Join(initial, ",")
	return p
}

// podsByName renders host h's static pods, keyed by manifest name.
func podsByName(t *testing.T, p *plan.Plan, h plan.Host) map[string]*corev1.Pod {
	t.Helper()
	ms, err := StaticPods(p, h)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for _, m := range ms {
		out[m.Name] = m.Pod
	}
	return out
}

// flagValues maps each --name=value of a command to its value.
func flagValues(cmd []string) map[string]string {
	out := map[string]string{}
	for _, a := range cmd[1:] {
		n, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		out[n] = v
	}
	return out
}

func TestStaticPodsShape(t *testing.T) {
	wantNames := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "keepalived"}
	wantImage := map[string]string{
		"etcd": catalog.ImageEtcd, "kube-apiserver": catalog.ImageAPIServer,
		"kube-controller-manager": catalog.ImageControllerManager, "kube-scheduler": catalog.ImageScheduler,
		"kube-proxy": catalog.ImageProxy, "keepalived": catalog.ImageKeepalived,
	}
	for _, n := range []int{1, 3, 5} {
		p := testPlan(t, n)
		for _, h := range p.Hosts {
			t.Run(fmt.Sprintf("%d hosts/%s", n, h.Name), func(t *testing.T) {
				ms, err := StaticPods(p, h)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, m := range ms {
					names = append(names, m.Name)
					pod := m.Pod
					if pod.Name != m.Name || pod.Namespace != "kube-system" || !pod.Spec.HostNetwork ||
						pod.Spec.PriorityClassName != "system-node-critical" || pod.APIVersion != "v1" || pod.Kind != "Pod" {
						t.Errorf("%s: metadata/spec %+v", m.Name, pod.ObjectMeta)
					}
					if len(pod.Spec.Containers) != 1 {
						t.Fatalf("%s: %d containers", m.Name, len(pod.Spec.Containers))
					}
					c := pod.Spec.Containers[0]
					if im, _ := p.Artifacts.Image(wantImage[m.Name]); c.Image != im.Ref || c.Image == "" {
						t.Errorf("%s: image %q, want %q", m.Name, c.Image, im.Ref)
					}
					if c.Command[0] != m.Name && !(m.Name == "etcd" && c.Command[0] == "etcd") {
						t.Errorf("%s: binary %q", m.Name, c.Command[0])
					}
					if len(c.Args) != 0 {
						t.Errorf("%s: args %v: everything belongs in command", m.Name, c.Args)
					}
					checkVolumes(t, m.Name, pod)
				}
				if !slices.Equal(names, wantNames) {
					t.Errorf("names %v, want %v", names, wantNames)
				}
			})
		}
	}
}

// checkVolumes: sorted, typed, valid names, one mount per volume at the same path.
func checkVolumes(t *testing.T, name string, pod *corev1.Pod) {
	t.Helper()
	c := pod.Spec.Containers[0]
	if !slices.IsSortedFunc(pod.Spec.Volumes, func(a, b corev1.Volume) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("%s: volumes not sorted", name)
	}
	if !slices.IsSortedFunc(c.VolumeMounts, func(a, b corev1.VolumeMount) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("%s: mounts not sorted", name)
	}
	if len(pod.Spec.Volumes) != len(c.VolumeMounts) {
		t.Errorf("%s: %d volumes, %d mounts", name, len(pod.Spec.Volumes), len(c.VolumeMounts))
	}
	for i, v := range pod.Spec.Volumes {
		if errs := validation.IsDNS1123Label(v.Name); len(errs) > 0 {
			t.Errorf("%s: volume name %q: %v", name, v.Name, errs)
		}
		if v.HostPath == nil || v.HostPath.Type == nil || *v.HostPath.Type == corev1.HostPathUnset {
			t.Errorf("%s: volume %q has no explicit hostPath type", name, v.Name)
			continue
		}
		if i < len(c.VolumeMounts) && (c.VolumeMounts[i].Name != v.Name || c.VolumeMounts[i].MountPath != v.HostPath.Path) {
			t.Errorf("%s: mount %+v does not match volume %q at %s", name, c.VolumeMounts[i], v.Name, v.HostPath.Path)
		}
	}
}

// mountedAt reports whether path is inside a hostPath volume mounted at the
// same path inside the container.
func mountedAt(pod *corev1.Pod, path string) bool {
	host := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			host[v.Name] = v.HostPath.Path
		}
	}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if host[m.Name] != m.MountPath {
			continue
		}
		if path == m.MountPath || strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}

func TestFlagPathsAreMounted(t *testing.T) {
	p := testPlan(t, 3)
	for _, h := range p.Hosts {
		for name, pod := range podsByName(t, p, h) {
			paths := FlagPaths(pod)
			if len(paths) == 0 {
				t.Errorf("%s/%s: no flag paths", h.Name, name)
			}
			for _, path := range paths {
				if !mountedAt(pod, path) {
					t.Errorf("%s/%s: %s is named by a flag but not mounted", h.Name, name, path)
				}
			}
		}
	}
}

func TestFlagPaths(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Command: []string{"/bin/x", "--a=/etc/a", "--b=https://x,/etc/b,/etc/c", "--c=rel/path", "-d=/d", "/positional", "--e"},
		Args:    []string{"--f=/f"},
	}}}}
	want := []string{"/etc/a", "/etc/b", "/etc/c", "/d", "/f"}
	if got := FlagPaths(pod); !slices.Equal(got, want) {
		t.Errorf("FlagPaths = %v, want %v", got, want)
	}
}

func TestFlagsSortedAndCurrent(t *testing.T) {
	removed := []string{"insecure-port", "insecure-bind-address", "admission-control", "anonymous-auth",
		"port", "address", "kubelet-https", "experimental-", "master", "apiserver-count", "enable-swagger-ui",
		"snapshot-count"}
	p := testPlan(t, 3)
	for name, pod := range podsByName(t, p, p.Hosts[0]) {
		cmd := pod.Spec.Containers[0].Command
		if strings.Contains(strings.Join(cmd, " "), "hyperkube") {
			t.Errorf("%s: hyperkube", name)
		}
		var flagNames []string
		for _, a := range cmd[1:] {
			if !strings.HasPrefix(a, "--") {
				t.Errorf("%s: argument %q is not a --flag", name, a)
			}
			n, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			flagNames = append(flagNames, n)
			for _, r := range removed {
				if n == r || (strings.HasSuffix(r, "-") && strings.HasPrefix(n, r)) {
					t.Errorf("%s: removed or forbidden flag --%s", name, n)
				}
			}
		}
		if !slices.IsSorted(flagNames) {
			t.Errorf("%s: flags not sorted: %v", name, flagNames)
		}
		if len(slices.Compact(slices.Clone(flagNames))) != len(flagNames) {
			t.Errorf("%s: repeated flag: %v", name, flagNames)
		}
	}
}

func TestComponentFlags(t *testing.T) {
	p := testPlan(t, 3)
	h := p.Hosts[1]
	pods := podsByName(t, p, h)
	tests := []struct {
		pod  string
		want map[string]string
	}{
		{"etcd", map[string]string{
			"name": "master2", "data-dir": "/var/lib/etcd",
			"listen-client-urls":          "https://127.0.0.1:2379,https://10.0.0.12:2379",
			"advertise-client-urls":       "https://10.0.0.12:2379",
			"listen-peer-urls":            "https://10.0.0.12:2380",
			"initial-advertise-peer-urls": "https://10.0.0.12:2380",
			"initial-cluster":             p.EtcdInitialCluster, "initial-cluster-token": "kign-test",
			"initial-cluster-state": "new", "client-cert-auth": "true", "peer-client-cert-auth": "true",
			"listen-metrics-urls": "http://127.0.0.1:2381",
			"cert-file":           EtcdServerCert, "key-file": EtcdServerKey, "trusted-ca-file": EtcdCACert,
			"peer-cert-file": EtcdPeerCert, "peer-key-file": EtcdPeerKey, "peer-trusted-ca-file": EtcdCACert,
		}},
		{"kube-apiserver", map[string]string{
			"advertise-address": "10.0.0.12", "secure-port": "6443",
			"authorization-mode": "Node,RBAC", "enable-admission-plugins": "NodeRestriction", "allow-privileged": "true",
			"etcd-servers": "https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379",
			"etcd-cafile":  EtcdCACert, "etcd-certfile": APIServerEtcdClientCert, "etcd-keyfile": APIServerEtcdClientKey,
			"authentication-config":    "/etc/kubernetes/authentication-config.yaml",
			"service-account-issuer":   "https://kubernetes.default.svc.cluster.local",
			"service-account-key-file": ServiceAccountPublicKey, "service-account-signing-key-file": ServiceAccountPrivateKey,
			"service-cluster-ip-range":     "10.96.0.0/12",
			"requestheader-client-ca-file": FrontProxyCACert, "requestheader-allowed-names": "front-proxy-client",
			"proxy-client-cert-file": FrontProxyClientCert, "proxy-client-key-file": FrontProxyClientKey,
			"kubelet-client-certificate": APIServerKubeletClientCert, "kubelet-client-key": APIServerKubeletClientKey,
			"tls-cert-file": APIServerCert, "tls-private-key-file": APIServerKey, "client-ca-file": CACert,
		}},
		{"kube-controller-manager", map[string]string{
			"kubeconfig": ControllerManagerKubeconfig, "authentication-kubeconfig": ControllerManagerKubeconfig,
			"authorization-kubeconfig": ControllerManagerKubeconfig, "bind-address": "127.0.0.1", "leader-elect": "true",
			"allocate-node-cidrs":      "false",
			"service-cluster-ip-range": "10.96.0.0/12", "cluster-name": "test",
			"cluster-signing-cert-file": CACert, "cluster-signing-key-file": CAKey, "root-ca-file": CACert,
			"service-account-private-key-file": ServiceAccountPrivateKey, "use-service-account-credentials": "true",
			"controllers": "*,bootstrapsigner,tokencleaner",
		}},
		{"kube-scheduler", map[string]string{
			"kubeconfig": SchedulerKubeconfig, "authentication-kubeconfig": SchedulerKubeconfig,
			"authorization-kubeconfig": SchedulerKubeconfig, "bind-address": "127.0.0.1", "leader-elect": "true",
		}},
		{"kube-proxy", map[string]string{"config": ProxyConfigFile, "hostname-override": "master2"}},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			got := flagValues(pods[tt.pod].Spec.Containers[0].Command)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("--%s=%q, want %q", k, got[k], v)
				}
			}
		})
	}
	// flannel's etcd leases own the node subnets: no allocation flags.
	got := flagValues(pods["kube-controller-manager"].Spec.Containers[0].Command)
	for _, f := range []string{"cluster-cidr", "node-cidr-mask-size"} {
		if _, ok := got[f]; ok {
			t.Errorf("kube-controller-manager has --%s", f)
		}
	}
}

// TestNarrowMounts: etcd sees only etcd's certificates; no pod but the
// controller-manager sees the cluster CA key.
func TestNarrowMounts(t *testing.T) {
	p := testPlan(t, 3)
	for name, pod := range podsByName(t, p, p.Hosts[0]) {
		for _, v := range pod.Spec.Volumes {
			path := v.HostPath.Path
			if name == "etcd" && path != EtcdDataDir && !strings.HasPrefix(path, EtcdPKIDir+"/") {
				t.Errorf("etcd mounts %s", path)
			}
			if path == CAKey && name != "kube-controller-manager" {
				t.Errorf("%s mounts the CA key", name)
			}
			if path == PKIDir || path == EtcdPKIDir || path == KubernetesDir {
				t.Errorf("%s mounts the whole folder %s", name, path)
			}
		}
	}
}

func TestProbes(t *testing.T) {
	type probe struct {
		path   string
		port   int
		scheme corev1.URIScheme
	}
	tests := []struct {
		pod                          string
		liveness, readiness, startup *probe
	}{
		{"etcd", &probe{"/livez", 2381, "HTTP"}, &probe{"/readyz", 2381, "HTTP"}, &probe{"/readyz", 2381, "HTTP"}},
		{"kube-apiserver", &probe{"/livez", 6443, "HTTPS"}, &probe{"/readyz", 6443, "HTTPS"}, &probe{"/livez", 6443, "HTTPS"}},
		{"kube-controller-manager", &probe{"/healthz", 10257, "HTTPS"}, nil, &probe{"/healthz", 10257, "HTTPS"}},
		{"kube-scheduler", &probe{"/livez", 10259, "HTTPS"}, &probe{"/readyz", 10259, "HTTPS"}, &probe{"/livez", 10259, "HTTPS"}},
		{"kube-proxy", &probe{"/livez", 10256, "HTTP"}, nil, nil},
		{"keepalived", nil, nil, nil},
	}
	pods := podsByName(t, testPlan(t, 3), testPlan(t, 3).Hosts[0])
	check := func(t *testing.T, kind string, got *corev1.Probe, want *probe) {
		switch {
		case want == nil && got != nil:
			t.Errorf("%s probe %+v, want none", kind, got)
		case want != nil && (got == nil || got.HTTPGet == nil):
			t.Errorf("%s probe missing", kind)
		case want != nil:
			g := got.HTTPGet
			if g.Path != want.path || g.Port.IntValue() != want.port || g.Scheme != want.scheme || g.Host != "127.0.0.1" {
				t.Errorf("%s probe %s %s://%s:%s, want %s://127.0.0.1:%d%s", kind, g.Path, g.Scheme, g.Host, g.Port.String(), want.scheme, want.port, want.path)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			c := pods[tt.pod].Spec.Containers[0]
			check(t, "liveness", c.LivenessProbe, tt.liveness)
			check(t, "readiness", c.ReadinessProbe, tt.readiness)
			check(t, "startup", c.StartupProbe, tt.startup)
		})
	}
}

func TestMarshalPod(t *testing.T) {
	p := testPlan(t, 3)
	for name, pod := range podsByName(t, p, p.Hosts[0]) {
		t.Run(name, func(t *testing.T) {
			a, err := MarshalPod(pod)
			if err != nil {
				t.Fatal(err)
			}
			again := podsByName(t, p, p.Hosts[0])[name]
			b, _ := MarshalPod(again)
			if string(a) != string(b) {
				t.Error("two renderings differ")
			}
			var back corev1.Pod
			if err := yaml.UnmarshalStrict(a, &back); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(&back, pod) {
				t.Error("pod does not survive a YAML round trip")
			}
		})
	}
	if _, err := MarshalPod(nil); err == nil {
		t.Error("MarshalPod(nil) succeeded")
	}
}

func TestStaticPodsErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *plan.Plan, h *plan.Host)
		want   string
	}{
		{"missing image", func(p *plan.Plan, _ *plan.Host) {
			p.Artifacts.Images = slices.DeleteFunc(slices.Clone(p.Artifacts.Images), func(i catalog.Image) bool { return i.Name == catalog.ImageScheduler })
		}, `static pod "kube-scheduler": image "kube-scheduler"`},
		{"host not in initial cluster", func(_ *plan.Plan, h *plan.Host) { h.IP = netip.MustParseAddr("10.9.9.9") }, "initial cluster"},
		{"no etcd endpoints", func(p *plan.Plan, _ *plan.Host) { p.EtcdClientEndpoints = nil }, "etcd client endpoints"},
		{"no address", func(_ *plan.Plan, h *plan.Host) { h.IP = netip.Addr{} }, "IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan(t, 3)
			h := p.Hosts[0]
			tt.mutate(p, &h)
			_, err := StaticPods(p, h)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestPKIFilesComeFromTheTable: every certificate or key a pod's flags name
// is one internal/pki places on the host, so the names cannot drift apart.
func TestPKIFilesComeFromTheTable(t *testing.T) {
	placed := map[string]bool{}
	for _, s := range pki.Table {
		placed[s.HostPath()], placed[s.HostKeyPath()] = true, true
	}
	p := testPlan(t, 3)
	for name, pod := range podsByName(t, p, p.Hosts[0]) {
		for _, path := range FlagPaths(pod) {
			if strings.HasPrefix(path, PKIDir+"/") && !placed[path] {
				t.Errorf("%s names %s, which internal/pki does not place on hosts", name, path)
			}
		}
	}
	for _, path := range []string{KubeletCertFile, KubeletKeyFile, FlannelEtcdClientCert, FlannelEtcdClientKey, CACert} {
		if !placed[path] {
			t.Errorf("%s is not placed by internal/pki", path)
		}
	}
}
