package gen

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/internal/plan"
	"github.com/kign-project/kign/internal/render"
)

// checkHardening: the pieces of a complete, locked-down cluster are in
// every host's config as the plan says: encryption at rest, the audit log,
// etcd's users, the add-ons with kign's RBAC, the control-plane taint, and
// no system:masters key but the bootstrap kubeconfig.
func checkHardening(t *testing.T, p *plan.Plan, h plan.Host, ph parsedHost, pods map[string]*corev1.Pod) {
	api := flags(pods["kube-apiserver"])
	enc, ok := ph.Files[api["encryption-provider-config"]]
	if !ok || enc.Mode != 0o600 {
		t.Errorf("encryption config %q: present %v, mode %#o", api["encryption-provider-config"], ok, enc.Mode)
	} else {
		var c apiserverv1.EncryptionConfiguration
		if err := yaml.UnmarshalStrict(enc.Data, &c); err != nil || c.Resources[0].Providers[0].Secretbox == nil {
			t.Errorf("encryption config: %v\n%s", err, enc.Data)
		}
	}
	if _, on := api["audit-policy-file"]; on != p.Audit.Enabled {
		t.Errorf("audit flags %v, plan's audit log %v", on, p.Audit.Enabled)
	} else if on {
		if _, ok := ph.Files[api["audit-policy-file"]]; !ok {
			t.Errorf("no audit policy %s", api["audit-policy-file"])
		}
	}
	for _, f := range []string{render.EtcdAuthScriptFile, render.AddonsScriptFile, render.BootstrapRBACFile, render.AddonsDir + "/10-coredns.yaml"} {
		if _, ok := ph.Files[f]; !ok {
			t.Errorf("no %s", f)
		}
	}
	for i, a := range p.Addons {
		want := strings.TrimSuffix(a[strings.LastIndex(a, "/")+1:], ".yaml")
		found := false
		for path, f := range ph.Files {
			if strings.HasPrefix(path, render.AddonsDir+"/5") && strings.HasSuffix(path, "-"+want+".yaml") && f.Mode == 0o600 {
				found = true
			}
		}
		if !found {
			t.Errorf("the inventory's add-on %d (%s) is not in %s (0600)", i, a, render.AddonsDir)
		}
	}
	for _, u := range []string{"etcd-auth.service", "kign-addons.service"} {
		if ph.Units[u] == "" {
			t.Errorf("no %s", u)
		}
	}
	if !strings.Contains(string(ph.Files[render.AddonsScriptFile].Data), "label --overwrite node "+h.Name+" ") {
		t.Errorf("%s does not label %s", render.AddonsScriptFile, h.Name)
	}
	var kc kubeletconfigv1beta1.KubeletConfiguration
	if err := yaml.Unmarshal(ph.Files[render.KubeletConfigFile].Data, &kc); err != nil {
		t.Fatal(err)
	}
	tainted := slices.ContainsFunc(kc.RegisterWithTaints, func(t corev1.Taint) bool {
		return t.Key == render.ControlPlaneLabel && t.Effect == corev1.TaintEffectNoSchedule
	})
	if tainted == p.AllowPodsOnMasters {
		t.Errorf("registerWithTaints %v with allowPodsOnMasters %v", kc.RegisterWithTaints, p.AllowPodsOnMasters)
	}
}
