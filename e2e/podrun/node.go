//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// registerNode creates this host's Node object the way the kubelet's
// registration does (pkg/kubelet/kubelet_node_status.go initialNode): with
// the kubelet's own credential (NodeRestriction lets it create only its own
// Node), the well-known labels, the taints of registerWithTaints and the
// node IP as InternalIP. It retries until the API answers and stops once
// the Node exists. Heartbeats and status are not emulated: the stand-in
// runs no pods the scheduler places.
func registerNode(ctx context.Context, kubeconfig, name, ip string, taints []corev1.Taint) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "podrun: node registration:", err)
		return
	}
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "podrun: node registration:", err)
		return
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelOSStable: runtime.GOOS, corev1.LabelArchStable: runtime.GOARCH,
		}},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name},
		}},
	}
	for {
		_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			fmt.Printf("podrun: node %s registered (taints %v)\n", name, taints)
			return
		}
		fmt.Fprintf(os.Stderr, "podrun: registering node %s: %v\n", name, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
}
