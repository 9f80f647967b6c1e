package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// What only the real kubelet, containerd, runc and CNI show: Nodes Ready,
// mirror pods, the apiserver reaching every kubelet (logs, exec), pods on
// every node talking over the flannel network, a ClusterIP Service
// through each node's kube-proxy, and names through cluster DNS.

const netcheckNS = "kign-e2e"

// kubectl runs the kubectl built here with out/admin.kubeconfig, from the
// hub namespace (its only network).
func (r *run) kubectl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	argv := append([]string{"--net=" + nsPath(r.net.hub), "--", filepath.Join(r.tools.K8sDir, "kubectl"), "--kubeconfig", filepath.Join(r.out, "admin.kubeconfig")}, args...)
	out, err := exec.CommandContext(ctx, "nsenter", argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// waitFor polls cond every second until it returns "" (done) or timeout
// passes; the last reason is the error.
func waitFor(ctx context.Context, timeout time.Duration, cond func() string) error {
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %s", timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// nodesReady says which hosts' Nodes are not Ready ("" when all are).
func (r *run) nodesReady(ctx context.Context) string {
	nodes, err := r.admin.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	ready := map[string]bool{}
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	var not []string
	for _, h := range r.hosts {
		if !ready[h.name] {
			not = append(not, h.name)
		}
	}
	if len(not) > 0 {
		return "Nodes not Ready: " + strings.Join(not, ", ")
	}
	return ""
}

// assertCluster runs the checks above.
func (r *run) assertCluster(ctx context.Context) error {
	if err := waitFor(ctx, 3*time.Minute, func() string { return r.nodesReady(ctx) }); err != nil {
		return err
	}
	r.figure("all nodes Ready in %.1f s", time.Since(r.booted).Seconds())
	r.logf("%s", inotifyFigure(len(r.hosts)))

	// A Running mirror pod for every static pod of every host (the kubelet
	// reports a mirror pod's status shortly after it creates it).
	n := 0
	if err := waitFor(ctx, 90*time.Second, func() string {
		pods, err := r.admin.cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		running := map[string]bool{}
		for _, p := range pods.Items {
			if p.Annotations["kubernetes.io/config.mirror"] != "" && p.Status.Phase == corev1.PodRunning {
				running[p.Name] = true
			}
		}
		n = 0
		for _, h := range r.hosts {
			for _, m := range manifestNames(h, h.manifests) {
				if !running[m+"-"+h.name] {
					return fmt.Sprintf("no Running mirror pod %s-%s for %s's static pod %s", m, h.name, h.name, m)
				}
				n++
			}
		}
		return ""
	}); err != nil {
		return err
	}
	r.logf("check: %d mirror pods Running, one for every static pod of every host", n)

	// The apiserver reaches each kubelet (verifying its serving
	// certificate against the cluster CA: --kubelet-certificate-authority).
	for _, h := range r.hosts {
		out, err := r.kubectl(ctx, "-n", "kube-system", "logs", "--tail=3", "kube-apiserver-"+h.name)
		if err != nil || strings.TrimSpace(out) == "" {
			return fmt.Errorf("kubectl logs kube-apiserver-%s: %q %v", h.name, out, err)
		}
		out, err = r.kubectl(ctx, "-n", "kube-system", "exec", "etcd-"+h.name, "--", "etcd", "--version")
		if err != nil || !strings.Contains(out, "etcd Version:") {
			return fmt.Errorf("kubectl exec etcd-%s -- etcd --version: %q %v", h.name, out, err)
		}
	}
	r.logf("check: kubectl logs and exec through the VIP reach every host's kubelet")

	if err := r.podNetwork(ctx); err != nil {
		return err
	}
	return nil
}

// podNetwork runs one netcheck pod per node (a DaemonSet tolerating the
// control-plane taint), then from each pod fetches every other pod, the
// Service's ClusterIP, and the Service by name through cluster DNS.
func (r *run) podNetwork(ctx context.Context) error {
	cs := r.admin.cs
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: netcheckNS}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	labels := map[string]string{"app": "netcheck"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "netcheck", Namespace: netcheckNS},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					Containers: []corev1.Container{{
						Name: "netcheck", Image: r.reg.addr + "/" + netcheckRepo,
						Args:           []string{"serve", ":8080"},
						Ports:          []corev1.ContainerPort{{ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 2},
					}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().DaemonSets(netcheckNS).Create(ctx, ds, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "netcheck", Namespace: netcheckNS},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if _, err := cs.CoreV1().Services(netcheckNS).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	pods, err := r.netcheckPods(ctx)
	if err != nil {
		return err
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Spec.NodeName < pods[j].Spec.NodeName })
	pairs := 0
	for _, from := range pods {
		var urls []string
		for _, to := range pods {
			if to.Name != from.Name {
				urls = append(urls, "http://"+to.Status.PodIP+":8080/")
			}
		}
		out, err := r.kubectl(ctx, append([]string{"-n", netcheckNS, "exec", from.Name, "--", "/netcheck", "get"}, urls...)...)
		if err != nil {
			return fmt.Errorf("pod network from %s on %s: %w", from.Name, from.Spec.NodeName, err)
		}
		for _, to := range pods {
			if to.Name != from.Name {
				if !strings.Contains(out, "http://"+to.Status.PodIP+":8080/ "+to.Name+"\n") {
					return fmt.Errorf("pod network: %s did not get %s's answer from %s:\n%s", from.Name, to.Name, to.Status.PodIP, out)
				}
				pairs++
			}
		}
	}
	want := len(pods) * (len(pods) - 1)
	r.figure("pod network: %d/%d pairs", pairs, want)

	// The Service by ClusterIP (kube-proxy of the pod's node) and by name
	// through cluster DNS, and the kubernetes Service's name, from every node.
	s, err := cs.CoreV1().Services(netcheckNS).Get(ctx, "netcheck", metav1.GetOptions{})
	if err != nil {
		return err
	}
	domain := r.c.domain
	svcName := "netcheck." + netcheckNS + ".svc." + domain
	for _, from := range pods {
		err := waitFor(ctx, 90*time.Second, func() string {
			out, err := r.kubectl(ctx, "-n", netcheckNS, "exec", from.Name, "--", "/netcheck", "get", "http://"+s.Spec.ClusterIP+"/", "http://"+svcName+"/")
			if err != nil {
				return err.Error()
			}
			// Each answer is the name of one of the Service's pods.
			for _, u := range []string{"http://" + s.Spec.ClusterIP + "/", "http://" + svcName + "/"} {
				if !answeredByPod(out, u, pods) {
					return fmt.Sprintf("%s: no netcheck pod answered:\n%s", u, out)
				}
			}
			out2, err := r.kubectl(ctx, "-n", netcheckNS, "exec", from.Name, "--", "/netcheck", "lookup", "kubernetes.default.svc."+domain)
			if err != nil {
				return err.Error()
			}
			if !strings.Contains(out2, "kubernetes.default.svc."+domain+" "+r.apiServerServiceIP()) {
				return "kubernetes.default.svc." + domain + " resolved to " + out2
			}
			return ""
		})
		if err != nil {
			return fmt.Errorf("service and DNS from %s on %s: %w", from.Name, from.Spec.NodeName, err)
		}
	}
	r.figure("service and DNS answered")
	r.logf("check: from a pod on every node, Service %s (ClusterIP %s) answered by IP and by name, and kubernetes.default.svc.%s resolved to %s", svcName, s.Spec.ClusterIP, domain, r.apiServerServiceIP())
	return nil
}

// apiServerServiceIP is the kubernetes Service's ClusterIP.
func (r *run) apiServerServiceIP() string {
	s, err := r.admin.cs.CoreV1().Services("default").Get(context.Background(), "kubernetes", metav1.GetOptions{})
	if err != nil {
		return "?"
	}
	return s.Spec.ClusterIP
}

// netcheckPods waits until a netcheck pod is Ready on every node.
func (r *run) netcheckPods(ctx context.Context) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	err := waitFor(ctx, 3*time.Minute, func() string {
		list, err := r.admin.cs.CoreV1().Pods(netcheckNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err.Error()
		}
		pods = nil
		byNode := map[string]bool{}
		for _, p := range list.Items {
			if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || p.DeletionTimestamp != nil {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					pods = append(pods, p)
					byNode[p.Spec.NodeName] = true
				}
			}
		}
		if len(byNode) != len(r.hosts) {
			return fmt.Sprintf("netcheck pods Ready on %d of %d nodes", len(byNode), len(r.hosts))
		}
		return ""
	})
	return pods, err
}

// hostReboot shuts one master that does not hold the VIP down cleanly and
// boots it again with its root kept: its static pods, its Node and its
// netcheck pod must all be back.
func (r *run) hostReboot(ctx context.Context) error {
	holders, err := r.vipHolders()
	if err != nil || len(holders) != 1 {
		return fmt.Errorf("VIP holders before the reboot: %v %v", names(holders), err)
	}
	var h *host
	for _, x := range r.hosts {
		if x != holders[0] {
			h = x
		}
	}
	halt(h, 90*time.Second)
	if h.console != nil {
		h.console.Close()
	}
	t0 := time.Now()
	if err := boot(h, r.bootOpts); err != nil {
		return fmt.Errorf("host %s: %w", h.name, err)
	}
	if err := r.waitReady(ctx, "after "+h.name+"'s reboot", t0, 6*time.Minute); err != nil {
		return err
	}
	if err := waitFor(ctx, 3*time.Minute, func() string { return r.nodesReady(ctx) }); err != nil {
		return err
	}
	if _, err := r.netcheckPods(ctx); err != nil {
		return err
	}
	r.logf("check: %s shut down and booted again with its root: its static pods, Node and netcheck pod are back in %.1f s", h.name, time.Since(t0).Seconds())
	r.figure("host reboot survived")
	return nil
}

// answeredByPod reports whether netcheck get's output has the line
// "URL POD" for url and one of pods.
func answeredByPod(out, url string, pods []corev1.Pod) bool {
	for _, p := range pods {
		if strings.Contains(out, url+" "+p.Name+"\n") {
			return true
		}
	}
	return false
}
