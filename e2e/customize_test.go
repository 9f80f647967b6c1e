package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// binaryOf is the process of each customizable component.
var binaryOf = map[string]string{
	"kubelet": "kubelet",
	"etcd":    "etcd", "apiServer": "kube-apiserver", "controllerManager": "kube-controller-manager",
	"scheduler": "kube-scheduler", "kubeProxy": "kube-proxy", "keepalived": "keepalived",
}

// assertExtraArgs checks that every flag of the inventory's
// components.*.extraArgs is on the command line of the running process on
// every host (and the components passed their checks, so they took it).
func (r *run) assertExtraArgs(ctx context.Context) error {
	var checked []string
	for _, field := range slices.Sorted(maps.Keys(r.c.extraArgs)) {
		bin, ok := binaryOf[field]
		if !ok {
			continue
		}
		for _, h := range r.hosts {
			out, err := inContainer(ctx, h, "sh", "-c", `for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done`)
			if err != nil {
				return err
			}
			var cmd []string
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				if len(f) > 0 && (f[0] == bin || strings.HasSuffix(f[0], "/"+bin)) {
					cmd = f
					break
				}
			}
			if cmd == nil {
				return fmt.Errorf("host %s: no %s process", h.name, bin)
			}
			for name, val := range r.c.extraArgs[field] {
				want := "--" + name + "=" + val
				if val == "" && bin == "keepalived" {
					want = "--" + name
				}
				if !slices.Contains(cmd, want) {
					return fmt.Errorf("host %s: %s runs without %s (components.%s.extraArgs): %v", h.name, bin, want, field, cmd)
				}
			}
		}
		for name := range r.c.extraArgs[field] {
			checked = append(checked, bin+" --"+name)
		}
	}
	if len(checked) > 0 {
		sort.Strings(checked)
		r.logf("check: the inventory's extraArgs reach the running components on every host: %s", strings.Join(checked, ", "))
	}
	return nil
}

// assertUserAddons checks that every object of the inventory's add-on
// files exists, read through the VIP with the admin credential.
func (r *run) assertUserAddons(ctx context.Context) error {
	if len(r.c.addons) == 0 {
		return nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.out, "admin.kubeconfig"))
	if err != nil {
		return err
	}
	cfg.Dial = dialerIn(nsPath(r.net.hub))
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(r.admin.cs.Discovery()))
	var found []string
	for _, f := range r.c.addons {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := docs.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			var u unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			if u.GetKind() == "" {
				continue
			}
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				return fmt.Errorf("add-on %s: %s: %w", f, gvk.Kind, err)
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if u.GetNamespace() != "" {
				ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
			}
			if _, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{}); err != nil {
				return fmt.Errorf("add-on %s: %s %s/%s: %w", f, gvk.Kind, u.GetNamespace(), u.GetName(), err)
			}
			found = append(found, gvk.Kind+" "+strings.TrimPrefix(u.GetNamespace()+"/"+u.GetName(), "/"))
		}
	}
	r.logf("check: the inventory's add-ons were applied: %s", strings.Join(found, ", "))
	return nil
}
