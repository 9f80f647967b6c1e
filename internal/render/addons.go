package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kign-project/kign/butane"
	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/pki"
	"github.com/kign-project/kign/internal/plan"
)

// The cluster add-ons. Every master applies them once its apiserver
// answers (kign-addons.service): first kign's RBAC with the bootstrap
// credential, which it then deletes, then each add-on file in name order
// with the add-on manager's credential, which may do only what the
// add-ons need. Both apply with server-side apply and one field manager,
// so any master may do it and several may race.

// ControlPlaneLabel and ControlPlaneTaint are kubeadm's
// (cmd/kubeadm/app/constants LabelNodeRoleControlPlane); the second label
// is what kubeadm's mark-control-plane phase sets with it.
const (
	ControlPlaneLabel     = "node-role.kubernetes.io/control-plane"
	ExcludeFromExternalLB = "node.kubernetes.io/exclude-from-external-load-balancers"
)

// ControlPlaneTaints are the taints every master registers with, unless
// the inventory lets masters run ordinary pods.
func ControlPlaneTaints(p *plan.Plan) []corev1.Taint {
	if p.AllowPodsOnMasters {
		return nil
	}
	return []corev1.Taint{{Key: ControlPlaneLabel, Effect: corev1.TaintEffectNoSchedule}}
}

// Addon is one manifest file the masters apply: Name (NN-name.yaml) in
// AddonsDir, Data its YAML documents.
type Addon struct {
	Name string
	Data []byte
}

// Addons returns kign's add-ons followed by the inventory's (userAddons,
// by plan path, applied in plan order after kign's).
func Addons(p *plan.Plan, userAddons map[string][]byte) ([]Addon, error) {
	dns, err := coreDNS(p)
	if err != nil {
		return nil, err
	}
	out := []Addon{{Name: "10-coredns.yaml", Data: dns}}
	for i, f := range p.Addons {
		data, ok := userAddons[f]
		if !ok {
			return nil, fmt.Errorf("add-on %s was not read", f)
		}
		// 500 and up: kign's files (10-...) come first in name order, and
		// the inventory's keep their order up to its limit of add-ons.
		out = append(out, Addon{Name: fmt.Sprintf("%d-%s", 500+i, strings.TrimSuffix(path.Base(f), path.Ext(f))) + ".yaml", Data: data})
	}
	return out, nil
}

// coreDNS follows kubeadm's CoreDNS add-on (cmd/kubeadm/app/phases/addons/dns/manifests.go,
// v1.36.3): the same objects and Corefile, two replicas spread over hosts,
// tolerating the control-plane taint since a cluster may have only masters.
func coreDNS(p *plan.Plan) ([]byte, error) {
	im, ok := p.Artifacts.Image(catalog.ImageCoreDNS)
	if !ok {
		return nil, fmt.Errorf("image %q is not in the artifact set", catalog.ImageCoreDNS)
	}
	const ns = metav1.NamespaceSystem
	labels := map[string]string{"k8s-app": "kube-dns"}
	corefile := fmt.Sprintf(`.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes %s in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success %[1]s
       disable denial %[1]s
    }
    loop
    reload
    loadbalance
}
`, p.Domain)
	port := func(name string, n int32, proto corev1.Protocol) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: proto}
	}
	tolerations := []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists}}
	for _, t := range []corev1.Taint{{Key: ControlPlaneLabel, Effect: corev1.TaintEffectNoSchedule}} {
		tolerations = append(tolerations, corev1.Toleration{Key: t.Key, Effect: t.Effect})
	}
	objs := []any{
		&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: ns}},
		&rbacv1.ClusterRole{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "ClusterRole"), ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
			}},
		&rbacv1.ClusterRoleBinding{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: "system:coredns"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:coredns"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "coredns", Namespace: ns}}},
		&corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: ns},
			Data: map[string]string{"Corefile": corefile}},
		&appsv1.Deployment{TypeMeta: typeMeta("apps/v1", "Deployment"), ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: ns, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(int32(2)),
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(1))}},
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						PriorityClassName:  "system-cluster-critical",
						ServiceAccountName: "coredns",
						Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
							PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 100,
								PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: corev1.LabelHostname,
									LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
										{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-dns"}}}}}}}}},
						Tolerations:  tolerations,
						NodeSelector: map[string]string{corev1.LabelOSStable: "linux"},
						DNSPolicy:    corev1.DNSDefault,
						Containers: []corev1.Container{{
							Name: "coredns", Image: im.Ref, ImagePullPolicy: corev1.PullIfNotPresent,
							Args: []string{"-conf", "/etc/coredns/Corefile"},
							Resources: corev1.ResourceRequirements{
								Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("170Mi")},
								Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("70Mi")},
							},
							VolumeMounts: []corev1.VolumeMount{{Name: "config-volume", MountPath: "/etc/coredns", ReadOnly: true}},
							Ports: []corev1.ContainerPort{port("dns", 53, corev1.ProtocolUDP), port("dns-tcp", 53, corev1.ProtocolTCP),
								port("metrics", 9153, corev1.ProtocolTCP), port("liveness-probe", 8080, corev1.ProtocolTCP), port("readiness-probe", 8181, corev1.ProtocolTCP)},
							LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromString("liveness-probe"), Scheme: corev1.URISchemeHTTP}},
								InitialDelaySeconds: 60, TimeoutSeconds: 5, SuccessThreshold: 1, FailureThreshold: 5},
							ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("readiness-probe"), Scheme: corev1.URISchemeHTTP}}},
							SecurityContext: &corev1.SecurityContext{
								AllowPrivilegeEscalation: ptr.To(false),
								Capabilities:             &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
								ReadOnlyRootFilesystem:   ptr.To(true),
							},
						}},
						Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"},
							Items:                []corev1.KeyToPath{{Key: "Corefile", Path: "Corefile"}}}}}},
					},
				},
			}},
		&corev1.Service{TypeMeta: typeMeta("v1", "Service"),
			ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: ns,
				Labels:      map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
				Annotations: map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
			Spec: corev1.ServiceSpec{ClusterIP: p.DNSServiceIP.String(), Selector: labels, Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
				{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
			}}},
	}
	return marshalDocs(objs)
}

// marshalDocs renders objects as one YAML stream, "---" between them.
func marshalDocs(objs []any) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		data, err := marshalYAML(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}

// Names of kign's own RBAC objects.
const (
	ClusterAdminsBinding    = "kign:cluster-admins"
	APIServerKubeletBinding = "kign:apiserver-kubelet-api-admin"
	// NodeCertRotationBinding lets the kubelets renew their client certificates.
	NodeCertRotationBinding    = "kign:node-autoapprove-certificate-rotation"
	AddonManagerRoleAndBinding = "kign:addon-manager"
)

// BootstrapRBAC is what only a system:masters credential may create, once:
// admin's group bound to cluster-admin (revocable by deleting the
// binding), the apiserver's kubelet client bound to system:kubelet-api-admin,
// and the add-on manager's roles, which hold exactly what the add-ons need
// (AddonManagerRules), with their bindings.
func BootstrapRBAC(p *plan.Plan, addons []Addon) ([]byte, error) {
	g, err := AddonManagerRules(p, addons)
	if err != nil {
		return nil, err
	}
	const rbacAPI = "rbac.authorization.k8s.io/v1"
	manager := rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: pki.AddonManagerUser}
	crb := func(name, role string, subject rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{TypeMeta: typeMeta(rbacAPI, "ClusterRoleBinding"),
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{subject}}
	}
	apiserverClient, _ := pki.Lookup(pki.APIServerKubeletClient)
	objs := []any{
		crb(ClusterAdminsBinding, "cluster-admin", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: pki.ClusterAdminsGroup}),
		crb(APIServerKubeletBinding, "system:kubelet-api-admin", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: apiserverClient.CN}),
		// The kubelets renew their client certificates (RotateCertificates):
		// csrapproving approves a node's CSR for its own name when the node
		// may create certificatesigningrequests/selfnodeclient, which this
		// built-in role grants (kubeadm's node-autoapprove-certificate-rotation).
		// Creating the CSR needs no binding: the Node authorizer allows a
		// node create/get/list/watch on certificatesigningrequests
		// (bootstrappolicy.NodeRules, plugin/pkg/auth/authorizer/node).
		crb(NodeCertRotationBinding, "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"}),
		&rbacv1.ClusterRole{TypeMeta: typeMeta(rbacAPI, "ClusterRole"),
			ObjectMeta: metav1.ObjectMeta{Name: AddonManagerRoleAndBinding}, Rules: g.Cluster},
		crb(AddonManagerRoleAndBinding, AddonManagerRoleAndBinding, manager),
	}
	// The rules of the add-ons' Roles hold only in their namespaces: a
	// ClusterRole bound there by a RoleBinding. The namespace may be one
	// an add-on makes, so it is made here first.
	for _, ns := range slices.Sorted(maps.Keys(g.Namespaced)) {
		role := AddonManagerRoleAndBinding + ":" + ns
		objs = append(objs,
			&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: ns}},
			&rbacv1.ClusterRole{TypeMeta: typeMeta(rbacAPI, "ClusterRole"), ObjectMeta: metav1.ObjectMeta{Name: role}, Rules: g.Namespaced[ns]},
			&rbacv1.RoleBinding{TypeMeta: typeMeta(rbacAPI, "RoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: AddonManagerRoleAndBinding, Namespace: ns},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: []rbacv1.Subject{manager}})
	}
	return marshalDocs(objs)
}

// addonObject is what the manager's rules need of one add-on document.
type addonObject struct {
	gvk       schema.GroupVersionKind
	name      string
	namespace string
	rules     []rbacv1.PolicyRule // of a Role or ClusterRole
	roleRef   *rbacv1.RoleRef     // of a RoleBinding or ClusterRoleBinding
}

// ParseAddon reads the YAML documents of one add-on file; each needs
// apiVersion, kind and metadata.name. Empty documents are skipped.
func ParseAddon(name string, data []byte) ([]addonObject, error) {
	docs, err := splitYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []addonObject
	for i, doc := range docs {
		var o struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Rules   []rbacv1.PolicyRule `json:"rules"`
			RoleRef *rbacv1.RoleRef     `json:"roleRef"`
		}
		if err := yaml.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		if o.APIVersion == "" && o.Kind == "" && o.Metadata.Name == "" {
			continue
		}
		gv, err := schema.ParseGroupVersion(o.APIVersion)
		if err != nil || o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			return nil, fmt.Errorf("%s: document %d: needs apiVersion, kind and metadata.name", name, i+1)
		}
		if o.Kind == "List" || strings.HasSuffix(o.Kind, "List") {
			return nil, fmt.Errorf("%s: document %d: a %s; write its items as documents of their own", name, i+1, o.Kind)
		}
		obj := addonObject{gvk: gv.WithKind(o.Kind), name: o.Metadata.Name, namespace: o.Metadata.Namespace}
		if gv.Group == rbacv1.GroupName {
			switch o.Kind {
			case "ClusterRole", "Role":
				obj.rules = o.Rules
			case "ClusterRoleBinding", "RoleBinding":
				obj.roleRef = o.RoleRef
			}
		}
		out = append(out, obj)
	}
	return out, nil
}

// splitYAML splits a YAML stream into its documents as kubectl does
// (apimachinery's YAMLReader, which drops empty ones).
func splitYAML(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
}

// resourceOf is the REST resource of a kind: apimachinery's guess (what
// kubectl uses without discovery), which is right for every built-in kind
// but Endpoints.
func resourceOf(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" && gvk.Kind == "Endpoints" {
		return "endpoints"
	}
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	return plural.Resource
}

// ManagerGrants are the add-on manager's rules: Cluster cluster-wide,
// Namespaced only in the namespace they are keyed by.
type ManagerGrants struct {
	Cluster    []rbacv1.PolicyRule
	Namespaced map[string][]rbacv1.PolicyRule
}

// AddonManagerRules is what the add-on manager may do: create objects of
// the add-ons' kinds; get, patch and update only the add-ons' objects, by
// name; hold what the add-ons' own ClusterRoles grant, and what their Roles
// grant in those Roles' namespaces (RBAC lets no one create a role that
// grants more than they hold); bind, by name, the roles outside the
// add-ons that the add-ons' bindings name (system:auth-delegator, say);
// and get and patch only the masters' Nodes, to label them. It reads no
// Secret and changes no object that is not an add-on's.
func AddonManagerRules(p *plan.Plan, addons []Addon) (ManagerGrants, error) {
	type key struct{ group, resource string }
	names := map[key][]string{}
	var order []key
	var clusterRoles []rbacv1.PolicyRule
	g := ManagerGrants{Namespaced: map[string][]rbacv1.PolicyRule{}}
	defined := map[string]bool{} // "ClusterRole/x", "Role/ns/x" of the add-ons
	var refs []addonObject
	for _, a := range addons {
		objs, err := ParseAddon(a.Name, a.Data)
		if err != nil {
			return g, err
		}
		for _, o := range objs {
			k := key{o.gvk.Group, resourceOf(o.gvk)}
			if _, ok := names[k]; !ok {
				order = append(order, k)
			}
			if !slices.Contains(names[k], o.name) {
				names[k] = append(names[k], o.name)
			}
			switch {
			case o.gvk.Group == rbacv1.GroupName && o.gvk.Kind == "ClusterRole":
				clusterRoles = append(clusterRoles, o.rules...)
				defined["ClusterRole/"+o.name] = true
			case o.gvk.Group == rbacv1.GroupName && o.gvk.Kind == "Role":
				g.Namespaced[o.namespace] = append(g.Namespaced[o.namespace], o.rules...)
				defined["Role/"+o.namespace+"/"+o.name] = true
			case o.roleRef != nil:
				refs = append(refs, o)
			}
		}
	}
	for _, k := range order {
		g.Cluster = append(g.Cluster,
			rbacv1.PolicyRule{APIGroups: []string{k.group}, Resources: []string{k.resource}, Verbs: []string{"create"}},
			rbacv1.PolicyRule{APIGroups: []string{k.group}, Resources: []string{k.resource}, ResourceNames: names[k], Verbs: []string{"get", "patch", "update"}})
	}
	var hosts []string
	for _, h := range p.Hosts {
		hosts = append(hosts, h.Name)
	}
	g.Cluster = append(g.Cluster, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes"}, ResourceNames: hosts, Verbs: []string{"get", "patch"}})
	for _, o := range refs {
		switch ref := o.roleRef; {
		case ref.Kind == "ClusterRole" && !defined["ClusterRole/"+ref.Name]:
			g.Cluster = append(g.Cluster, rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{ref.Name}, Verbs: []string{"bind"}})
		case ref.Kind == "Role" && !defined["Role/"+o.namespace+"/"+ref.Name]:
			g.Namespaced[o.namespace] = append(g.Namespaced[o.namespace], rbacv1.PolicyRule{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}, ResourceNames: []string{ref.Name}, Verbs: []string{"bind"}})
		}
	}
	g.Cluster = append(g.Cluster, clusterRoles...)
	return g, nil
}

var addonsScriptTemplate = template.Must(template.New("kign-addons").Parse(`#!/bin/sh
# Generated by kign: applies the cluster add-ons and labels this master
# (README.md "Add-ons"). Run by kign-addons.service at every boot until it
# succeeds; everything is server-side apply with one field manager, so a
# re-run or several masters at once change nothing twice.
set -eu
apply() { # KUBECONFIG FIELD-MANAGER FILE
  {{.Kubectl}} --kubeconfig="$1" apply --server-side --force-conflicts --field-manager="$2" -f "$3"
}
# kign's RBAC, with the bootstrap credential (system:masters), which is
# then deleted: the next boots find the RBAC in place. Its own field
# manager, so that the bare Namespaces it makes for the add-on manager's
# RoleBindings never take fields from the add-ons' own Namespaces.
if [ -f {{.Bootstrap}} ]; then
  apply {{.Bootstrap}} kign-bootstrap {{.RBAC}}
  rm -f {{.Bootstrap}}
  echo "kign-addons: kign's RBAC applied; {{.Bootstrap}} deleted"
fi
# NodeRestriction keeps a kubelet from setting node-role labels on its
# own Node, so they are set here once the kubelet has registered it.
{{.Kubectl}} --kubeconfig={{.Manager}} label --overwrite node {{.Node}} {{.Labels}}
# Each add-on file in name order (kign's first, then the inventory's
# addons), with the add-on manager's credential.
for f in {{.Dir}}/*.yaml; do
  apply {{.Manager}} kign "$f"
done
# Done for this installation: later boots (an update, a reboot) must not
# put back these files' objects over what a newer master applied since. A
# reprovisioned master starts without the marker and applies its own.
mkdir -p {{.MarkerDir}}
touch {{.Marker}}
`))

// AddonsScript returns the script kign-addons.service runs on host h.
func AddonsScript(p *plan.Plan, h plan.Host) ([]byte, error) {
	var b bytes.Buffer
	err := addonsScriptTemplate.Execute(&b, map[string]string{
		"Kubectl":   KubectlBin(p.OS),
		"Bootstrap": BootstrapKubeconfig,
		"RBAC":      BootstrapRBACFile,
		"Dir":       AddonsDir,
		"Manager":   AddonManagerKubeconfig,
		"Node":      h.Name,
		"Labels":    ControlPlaneLabel + "= " + ExcludeFromExternalLB + "=",
		"Marker":    AddonsAppliedMarker,
		"MarkerDir": path.Dir(AddonsAppliedMarker),
	})
	return b.Bytes(), err
}

// addonFiles are the add-on files of host h's config.
func addonFiles(p *plan.Plan, h plan.Host, addons []Addon) ([]butane.File, error) {
	rbac, err := BootstrapRBAC(p, addons)
	if err != nil {
		return nil, err
	}
	script, err := AddonsScript(p, h)
	if err != nil {
		return nil, err
	}
	file := func(path string, mode butane.Mode, data []byte) butane.File {
		return butane.File{Path: path, Mode: mode, Overwrite: butane.True(), Contents: butane.Resource{Inline: butane.Inline(string(data))}}
	}
	out := []butane.File{file(BootstrapRBACFile, modePublic, rbac), file(AddonsScriptFile, modePublic, script)}
	// 0600: an add-on of the inventory may hold a Secret.
	for _, a := range addons {
		out = append(out, file(path.Join(AddonsDir, a.Name), modeSecret, a.Data))
	}
	return out, nil
}
