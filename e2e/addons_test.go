package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Names kign gives its add-on objects (internal/render/addons.go).
const (
	controlPlaneLabel    = "node-role.kubernetes.io/control-plane"
	clusterAdminsBinding = "kign:cluster-admins"
)

// assertAddons waits for kign-addons.service on every host, then checks
// through the VIP what it made: kign's RBAC (admin works through its
// binding), CoreDNS's objects, every master's Node with the control-plane
// label (and taint, which the kubelet registered), and that the bootstrap
// credential is gone from every host and the add-on manager's can do
// nothing beyond the add-ons.
func (r *run) assertAddons(ctx context.Context) error {
	for _, h := range r.hosts {
		if err := waitActive(ctx, h, "kign-addons.service", 4*time.Minute); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(h.root, "etc/kubernetes/bootstrap.conf")); !os.IsNotExist(err) {
			return fmt.Errorf("host %s: /etc/kubernetes/bootstrap.conf is still there after kign-addons.service (%v)", h.name, err)
		}
	}
	cs := r.admin.cs
	dep, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("add-ons: CoreDNS Deployment: %w", err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 || !slices.ContainsFunc(dep.Spec.Template.Spec.Tolerations, func(t corev1.Toleration) bool {
		return t.Key == controlPlaneLabel && t.Effect == corev1.TaintEffectNoSchedule
	}) {
		return fmt.Errorf("add-ons: CoreDNS Deployment has %v replicas and tolerations %v: want 2 or more, tolerating the control-plane taint", dep.Spec.Replicas, dep.Spec.Template.Spec.Tolerations)
	}
	svc, err := cs.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil || svc.Spec.ClusterIP != r.c.dnsIP.String() {
		return fmt.Errorf("add-ons: Service kube-dns: %v (clusterIP %v, want %s)", err, svcIP(svc), r.c.dnsIP)
	}
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil || !strings.Contains(cm.Data["Corefile"], "kubernetes "+r.c.domain+" ") {
		return fmt.Errorf("add-ons: ConfigMap coredns: %v; want a Corefile serving %s", err, r.c.domain)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "system:coredns", metav1.GetOptions{}); err != nil {
		return fmt.Errorf("add-ons: CoreDNS's ClusterRoleBinding: %w", err)
	}
	r.logf("check: add-ons applied by every master: CoreDNS Deployment (%d replicas, tolerating the control-plane taint), Service kube-dns at %s, its Corefile for %s, its RBAC", *dep.Spec.Replicas, r.c.dnsIP, r.c.domain)

	for _, h := range r.hosts {
		n, err := cs.CoreV1().Nodes().Get(ctx, h.name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("node %s: %w", h.name, err)
		}
		if _, ok := n.Labels[controlPlaneLabel]; !ok {
			return fmt.Errorf("node %s has no %s label: %v", h.name, controlPlaneLabel, n.Labels)
		}
		tainted := slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == controlPlaneLabel && t.Effect == corev1.TaintEffectNoSchedule
		})
		if tainted == r.c.podsOnMasters {
			return fmt.Errorf("node %s: taints %v (allowPodsOnMasters %v)", h.name, n.Spec.Taints, r.c.podsOnMasters)
		}
	}
	what := "the control-plane label and NoSchedule taint"
	if r.c.podsOnMasters {
		what = "the control-plane label and no taint (allowPodsOnMasters)"
	}
	r.logf("check: every master's Node (registered with its own kubelet credential) carries %s", what)

	if err := r.assertAddonManager(ctx); err != nil {
		return err
	}
	return r.assertRevocableAdmin(ctx)
}

func svcIP(s *corev1.Service) string {
	if s == nil {
		return ""
	}
	return s.Spec.ClusterIP
}

// clientFrom is a client for a kubeconfig (a host's or the operator's)
// pointed at the VIP, dialling from the hub.
func (r *run) clientFrom(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.Host = r.admin.host
	cfg.Dial = dialerIn(nsPath(r.net.hub))
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// assertAddonManager: the add-on manager's credential (addons.conf on
// every master) may not read Secrets nor change objects that are not the
// add-ons'.
func (r *run) assertAddonManager(ctx context.Context) error {
	cs, err := r.clientFrom(filepath.Join(r.hosts[0].root, "etc/kubernetes/addons.conf"))
	if err != nil {
		return err
	}
	if _, err := cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		return fmt.Errorf("add-on manager: list kube-system Secrets: %v, want Forbidden", err)
	}
	patch := []byte(`{"metadata":{"labels":{"kign-e2e":"x"}}}`)
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Patch(ctx, "kube-proxy-not-an-addon", types.MergePatchType, patch, metav1.PatchOptions{}); !apierrors.IsForbidden(err) {
		return fmt.Errorf("add-on manager: patch a ConfigMap that is no add-on: %v, want Forbidden", err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, clusterAdminsBinding, metav1.GetOptions{}); !apierrors.IsForbidden(err) {
		return fmt.Errorf("add-on manager: read %s: %v, want Forbidden", clusterAdminsBinding, err)
	}
	if _, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		return fmt.Errorf("add-on manager: read its own ConfigMap coredns: %w", err)
	}
	r.logf("check: the add-on manager's credential reads its add-ons but is refused Secrets, other objects and kign's RBAC (Forbidden)")
	return nil
}

// assertRevocableAdmin: admin.kubeconfig stops working once its
// ClusterRoleBinding is deleted and super-admin.kubeconfig (system:masters)
// still works; super-admin then restores the binding.
func (r *run) assertRevocableAdmin(ctx context.Context) error {
	super, err := r.clientFrom(filepath.Join(r.out, "super-admin.kubeconfig"))
	if err != nil {
		return err
	}
	crbs := super.RbacV1().ClusterRoleBindings()
	saved, err := crbs.Get(ctx, clusterAdminsBinding, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("super-admin: get %s: %w", clusterAdminsBinding, err)
	}
	if saved.RoleRef.Name != "cluster-admin" || len(saved.Subjects) != 1 || saved.Subjects[0].Kind != rbacv1.GroupKind {
		return fmt.Errorf("%s binds %v to %s, want a group to cluster-admin", clusterAdminsBinding, saved.Subjects, saved.RoleRef.Name)
	}
	if err := crbs.Delete(ctx, clusterAdminsBinding, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("super-admin: delete %s: %w", clusterAdminsBinding, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := r.admin.cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
		if apierrors.IsForbidden(err) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("admin.kubeconfig still lists ConfigMaps 30 s after %s was deleted: %v", clusterAdminsBinding, err)
		}
		time.Sleep(time.Second)
	}
	if _, err := super.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("super-admin.kubeconfig without %s: %w", clusterAdminsBinding, err)
	}
	restore := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: saved.Name, Labels: saved.Labels}, RoleRef: saved.RoleRef, Subjects: saved.Subjects}
	if _, err := crbs.Create(ctx, restore, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("super-admin: restore %s: %w", clusterAdminsBinding, err)
	}
	for {
		_, err := r.admin.cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
		if err == nil {
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			return fmt.Errorf("admin.kubeconfig after %s was restored: %w", clusterAdminsBinding, err)
		}
		time.Sleep(time.Second)
	}
	r.logf("check: admin.kubeconfig (group %s) is refused once its ClusterRoleBinding is deleted, super-admin.kubeconfig (system:masters) still works and restored it", saved.Subjects[0].Name)
	return nil
}
