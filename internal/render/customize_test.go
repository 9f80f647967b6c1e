package render

import (
	"slices"
	"strings"
	"testing"

	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/flagset"
	"github.com/kign-project/kign/internal/inventory"
)

// Every flag the inventory refuses to let extraArgs replace is one kign
// sets, and one its binary has.
func TestNeededFlagsAreKigns(t *testing.T) {
	p := testPlan(t, 3)
	pods, err := StaticPods(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	commands := map[string][]string{"kubelet": KubeletArgs(p, p.Hosts[0])}
	for _, m := range pods {
		commands[m.Name] = m.Pod.Spec.Containers[0].Command
	}
	for _, c := range inventory.ComponentTable {
		cmd, ok := commands[c.Name]
		if !ok {
			t.Errorf("%s: kign renders no such component", c.Name)
			continue
		}
		var set *flagset.Set
		if c.Binary != "" {
			ver, err := inventory.FlagSetVersion(c, p.KubernetesVersion)
			if err != nil {
				t.Fatal(err)
			}
			s, err := flagset.Lookup(c.Binary, ver)
			if err != nil {
				t.Fatal(err)
			}
			set = &s
		}
		for _, f := range c.Needed {
			if !slices.ContainsFunc(cmd, func(a string) bool { return a == "--"+f || strings.HasPrefix(a, "--"+f+"=") }) {
				t.Errorf("%s: needed flag --%s is not one kign sets", c.Name, f)
			}
			if set != nil && set.Kind(f) == flagset.Unknown {
				t.Errorf("%s: needed flag --%s is not a flag of %s %s", c.Name, f, set.Binary, set.Version)
			}
		}
	}
}

func TestCustomization(t *testing.T) {
	p := testPlan(t, 3)
	p.FeatureGates = map[string]bool{"DRAPartitionableDevices": true, "InPlacePodVerticalScalingInitContainers": false}
	p.Components = inventory.Components{
		APIServer: inventory.Component{
			ExtraArgs:    map[string]string{"profiling": "false", "oidc-issuer-url": "https://id.example", "event-ttl": "2h"},
			ExtraVolumes: []inventory.ExtraVolume{{Name: "oidc", HostPath: "/etc/oidc", MountPath: "/etc/oidc", ReadOnly: true, PathType: "Directory"}},
		},
		Keepalived: inventory.Component{ExtraArgs: map[string]string{"vrrp": "", "log-detail": ""}},
		Kubelet:    inventory.Component{ExtraArgs: map[string]string{"node-labels": "rack=r1"}},
	}
	pods, err := StaticPods(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]string{}
	for _, m := range pods {
		byName[m.Name] = m.Pod.Spec.Containers[0].Command
		if m.Name == "kube-apiserver" {
			vols := m.Pod.Spec.Volumes
			if v := vols[len(vols)-1]; v.Name != "oidc" || v.HostPath.Path != "/etc/oidc" {
				t.Errorf("extra volume: %+v", v)
			}
			mounts := m.Pod.Spec.Containers[0].VolumeMounts
			if mt := mounts[len(mounts)-1]; mt.Name != "oidc" || mt.MountPath != "/etc/oidc" || !mt.ReadOnly {
				t.Errorf("extra mount: %+v", mt)
			}
		}
	}
	api := byName["kube-apiserver"]
	for _, want := range []string{"--profiling=false", "--oidc-issuer-url=https://id.example", "--event-ttl=2h",
		"--feature-gates=DRAPartitionableDevices=true,InPlacePodVerticalScalingInitContainers=false"} {
		if !slices.Contains(api, want) {
			t.Errorf("kube-apiserver lacks %s: %v", want, api)
		}
	}
	if !slices.IsSorted(api[1:]) {
		t.Errorf("kube-apiserver's flags are not sorted: %v", api)
	}
	if got := byName["keepalived"]; !slices.Equal(got, []string{"keepalived", "--dont-fork", "--log-console", "--log-detail", "--use-file=" + KeepalivedConfigFile, "--vrrp"}) {
		t.Errorf("keepalived: %v", got)
	}
	if got := KubeletArgs(p, p.Hosts[0]); !slices.Contains(got, "--node-labels=rack=r1") {
		t.Errorf("kubelet: %v", got)
	}
	kc, err := KubeletConfig(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kc), "featureGates:\n  DRAPartitionableDevices: true\n  InPlacePodVerticalScalingInitContainers: false\n") {
		t.Errorf("kubelet config lacks the gates it knows:\n%s", kc)
	}
	// A name kign uses for its own volume is refused.
	p.Components.APIServer.ExtraVolumes[0].Name = volumeName(CACert)
	if _, err := StaticPods(p, p.Hosts[0]); err == nil || !strings.Contains(err.Error(), "cluster.components.apiServer.extraVolumes") {
		t.Errorf("a clashing volume name: %v", err)
	}
}

// The inventory's config fields are merged over kign's file: mappings key
// by key, the rest replaced, kign's own fields kept.
func TestConfigMerge(t *testing.T) {
	inv := parseCluster(t, `  apiServer: {vip: 192.168.1.10}
  components:
    kubelet: {config: {serializeImagePulls: false, evictionHard: {memory.available: 200Mi}, logging: {verbosity: 3}}}
    kubeProxy: {config: {iptables: {minSyncPeriod: 2s}}}
`)
	p := testPlan(t, 3)
	p.Components = inv.Cluster.Components
	data, err := KubeletConfig(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	var c kubeletconfigv1beta1.KubeletConfiguration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatal(err)
	}
	if c.SerializeImagePulls == nil || *c.SerializeImagePulls || c.EvictionHard["memory.available"] != "200Mi" || c.Logging.Verbosity != 3 ||
		c.StaticPodPath != ManifestsDir || c.Authentication.X509.ClientCAFile != CACert || c.Logging.Format != "" {
		t.Errorf("merged kubelet config:\n%s", data)
	}
	data, err = ProxyConfig(p, p.Hosts[0])
	if err != nil {
		t.Fatal(err)
	}
	var pc kubeproxyconfigv1alpha1.KubeProxyConfiguration
	if err := yaml.UnmarshalStrict(data, &pc); err != nil {
		t.Fatal(err)
	}
	if pc.IPTables.MinSyncPeriod.Duration.String() != "2s" || pc.Mode != ProxyMode || pc.ClientConnection.Kubeconfig != ProxyKubeconfig {
		t.Errorf("merged kube-proxy config:\n%s", data)
	}
}
