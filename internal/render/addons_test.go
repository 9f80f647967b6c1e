package render

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

func docsOf(t *testing.T, data []byte) [][]byte {
	t.Helper()
	docs, err := splitYAML(data)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range docs {
		if strings.TrimSpace(string(d)) != "" {
			out = append(out, d)
		}
	}
	return out
}

func TestCoreDNS(t *testing.T) {
	p := testPlan(t, 3)
	addons, err := Addons(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(addons) != 1 || addons[0].Name != "10-coredns.yaml" {
		t.Fatalf("add-ons %v", addons)
	}
	kinds := map[string][]byte{}
	for _, d := range docsOf(t, addons[0].Data) {
		var tm struct{ Kind string }
		if err := yaml.Unmarshal(d, &tm); err != nil {
			t.Fatal(err)
		}
		kinds[tm.Kind] = d
	}
	for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service"} {
		if kinds[k] == nil {
			t.Errorf("no %s", k)
		}
	}
	var dep appsv1.Deployment
	if err := yaml.UnmarshalStrict(kinds["Deployment"], &dep); err != nil {
		t.Fatal(err)
	}
	spec := dep.Spec.Template.Spec
	if *dep.Spec.Replicas != 2 || spec.Containers[0].Image != "registry.k8s.io/coredns/coredns:v1.14.2" ||
		!slices.ContainsFunc(spec.Tolerations, func(t corev1.Toleration) bool {
			return t.Key == ControlPlaneLabel && t.Effect == corev1.TaintEffectNoSchedule
		}) {
		t.Errorf("Deployment: replicas %d image %s tolerations %v", *dep.Spec.Replicas, spec.Containers[0].Image, spec.Tolerations)
	}
	var svc corev1.Service
	if err := yaml.UnmarshalStrict(kinds["Service"], &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.10" || svc.Name != "kube-dns" {
		t.Errorf("Service %s at %s, want kube-dns at the plan's DNS address", svc.Name, svc.Spec.ClusterIP)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(kinds["ConfigMap"], &cm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data["Corefile"], "kubernetes cluster.local in-addr.arpa ip6.arpa {") {
		t.Errorf("Corefile:\n%s", cm.Data["Corefile"])
	}
}

// The manager may create the add-ons' kinds and touch only the add-ons'
// objects by name, holds every rule its add-ons' roles grant, and may
// patch only the masters' Nodes.
func TestAddonManagerRules(t *testing.T) {
	p := testPlan(t, 3)
	p.Addons = []string{"/inv/addons/metrics.yaml"}
	user := []byte(`apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: monitoring}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics:auth-delegator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator}
subjects: [{kind: ServiceAccount, name: metrics, namespace: monitoring}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{kind: ServiceAccount, name: metrics, namespace: monitoring}]
---
`)
	addons, err := Addons(p, map[string][]byte{p.Addons[0]: user})
	if err != nil {
		t.Fatal(err)
	}
	if addons[1].Name != "500-metrics.yaml" {
		t.Errorf("user add-on named %s", addons[1].Name)
	}
	g, err := AddonManagerRules(p, addons)
	if err != nil {
		t.Fatal(err)
	}
	allowsIn := func(rules []rbacv1.PolicyRule, group, resource, verb, name string) bool {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) &&
				(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
				return true
			}
		}
		return false
	}
	allows := func(group, resource, verb, name string) bool { return allowsIn(g.Cluster, group, resource, verb, name) }
	for _, c := range []struct {
		group, resource, verb, name string
		want                        bool
	}{
		{"apps", "deployments", "create", "", true},
		{"apps", "deployments", "patch", "coredns", true},
		{"apps", "deployments", "patch", "other", false},
		{"", "namespaces", "create", "", true},
		{"", "namespaces", "patch", "monitoring", true},
		{"rbac.authorization.k8s.io", "roles", "create", "", true},
		{"", "pods", "get", "x", false}, // Role reader grants it in monitoring only
		{"", "pods", "list", "x", true}, // system:coredns grants it, cluster-wide
		{"", "configmaps", "delete", "x", false},
		{"rbac.authorization.k8s.io", "clusterroles", "bind", "system:auth-delegator", true},
		{"rbac.authorization.k8s.io", "clusterroles", "bind", "cluster-admin", false},
		{"", "secrets", "get", "x", false},
		{"", "secrets", "list", "", false},
		{"", "nodes", "patch", "master1", true},
		{"", "nodes", "patch", "worker7", false},
		{"", "nodes", "delete", "master1", false},
		{"rbac.authorization.k8s.io", "clusterrolebindings", "patch", ClusterAdminsBinding, false},
		{"rbac.authorization.k8s.io", "clusterroles", "escalate", "", false},
		{"rbac.authorization.k8s.io", "clusterroles", "bind", "", false},
	} {
		if got := allows(c.group, c.resource, c.verb, c.name); got != c.want {
			t.Errorf("%s %s/%s %q: allowed %v, want %v", c.verb, c.group, c.resource, c.name, got, c.want)
		}
	}

	// Role reader's rules hold only in monitoring, the bind of kube-system's
	// Role only there.
	if !allowsIn(g.Namespaced["monitoring"], "", "pods", "get", "x") || allowsIn(g.Cluster, "", "pods", "delete", "x") {
		t.Errorf("Role reader's rules: namespaced %v", g.Namespaced)
	}
	if !allowsIn(g.Namespaced["kube-system"], "rbac.authorization.k8s.io", "roles", "bind", "extension-apiserver-authentication-reader") ||
		allows("rbac.authorization.k8s.io", "roles", "bind", "extension-apiserver-authentication-reader") {
		t.Errorf("the bind of a Role outside the add-ons: namespaced %v", g.Namespaced)
	}

	rbac, err := BootstrapRBAC(p, addons)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, d := range docsOf(t, rbac) {
		var crb rbacv1.ClusterRoleBinding
		if err := yaml.Unmarshal(d, &crb); err != nil {
			t.Fatal(err)
		}
		if crb.Kind == "ClusterRoleBinding" || crb.Kind == "RoleBinding" {
			subjects = append(subjects, crb.Subjects[0].Name+"→"+crb.RoleRef.Name)
		}
	}
	want := []string{"kign:cluster-admins→cluster-admin", "kube-apiserver-kubelet-client→system:kubelet-api-admin", "system:nodes→system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "kign:addon-manager→kign:addon-manager",
		"kign:addon-manager→kign:addon-manager:kube-system", "kign:addon-manager→kign:addon-manager:monitoring"}
	if !slices.Equal(subjects, want) {
		t.Errorf("bindings %v, want %v", subjects, want)
	}
}

func TestParseAddon(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"kind: ConfigMap\nmetadata: {name: a}\n", "needs apiVersion, kind and metadata.name"},
		{"apiVersion: v1\nkind: ConfigMap\n", "needs apiVersion, kind and metadata.name"},
		{"apiVersion: v1\nkind: List\nmetadata: {name: a}\nitems: []\n", "write its items as documents"},
		{"apiVersion: v1\nkind: [\n", "document 1"},
		{"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: a/b/c\nkind: X\nmetadata: {name: b}\n", "document 2"},
	} {
		if _, err := ParseAddon("x.yaml", []byte(c.data)); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.yaml: ") {
			t.Errorf("%q: %v, want x.yaml: ... %s", c.data, err, c.want)
		}
	}
	objs, err := ParseAddon("x.yaml", []byte("# only a comment\n---\n"))
	if err != nil || len(objs) != 0 {
		t.Errorf("empty documents: %v %v", objs, err)
	}
}

func TestAddonsScript(t *testing.T) {
	p := testPlan(t, 3)
	data, err := AddonsScript(p, p.Hosts[1])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v: %s\n%s", err, out, data)
	}
	s := string(data)
	rbac, del, label, loop, mark := strings.Index(s, "apply "+BootstrapKubeconfig+" kign-bootstrap "+BootstrapRBACFile), strings.Index(s, "rm -f "+BootstrapKubeconfig),
		strings.Index(s, "label --overwrite node master2 "+ControlPlaneLabel+"="), strings.Index(s, "for f in "+AddonsDir+"/*.yaml"), strings.Index(s, "touch "+AddonsAppliedMarker)
	if rbac < 0 || !(rbac < del && del < label && label < loop && loop < mark) {
		t.Errorf("want RBAC with the bootstrap credential, its deletion, the label of this host, the add-ons in order, then the marker:\n%s", s)
	}
	if !strings.Contains(s, "/usr/local/bin/kubectl") {
		t.Errorf("not the OS's kubectl:\n%s", s)
	}
}

func TestControlPlaneTaint(t *testing.T) {
	p := testPlan(t, 3)
	for _, allow := range []bool{false, true} {
		p.AllowPodsOnMasters = allow
		data, err := KubeletConfig(p, p.Hosts[0])
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(string(data), "registerWithTaints:\n- effect: NoSchedule\n  key: node-role.kubernetes.io/control-plane\n")
		if has == allow {
			t.Errorf("allowPodsOnMasters %v: registerWithTaints in\n%s", allow, data)
		}
	}
}
