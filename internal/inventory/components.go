package inventory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/coreos/go-semver/semver"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/flagset"
)

// ComponentSpec is one row of the components kign lets users customize.
type ComponentSpec struct {
	// Field is the key under cluster.components.
	Field string
	// Name is the static pod's name, or kubelet for the kubelet's unit.
	Name string
	// Binary is the flag table's binary (internal/flagset); "" for
	// keepalived, whose image kign does not build and has no table of.
	Binary string
	// Etcd versions the flag table by etcd's version, not Kubernetes'.
	Etcd bool
	// Pod: the component is a static pod and takes extraVolumes.
	Pod bool
	// Get returns the component's settings.
	Get func(Components) Component
	// Needed are the flags kign sets that the cluster needs as kign sets
	// them (they name its files, addresses and identities): extraArgs may
	// not replace them. render's tests check kign sets each one.
	Needed []string
	// Conflicts are flags (a trailing "-" matches a prefix) the component
	// refuses next to ones kign sets, with why.
	Conflicts map[string]string
}

// ComponentTable lists the customizable components, in inventory order.
var ComponentTable = []ComponentSpec{
	{Field: "etcd", Name: "etcd", Binary: "etcd", Etcd: true, Pod: true, Get: func(c Components) Component { return c.Etcd },
		Needed: []string{"name", "data-dir", "advertise-client-urls", "listen-client-urls", "listen-peer-urls", "initial-advertise-peer-urls",
			"initial-cluster", "initial-cluster-token", "initial-cluster-state", "cert-file", "key-file", "trusted-ca-file", "client-cert-auth",
			"peer-cert-file", "peer-key-file", "peer-trusted-ca-file", "peer-client-cert-auth", "listen-metrics-urls"}},
	{Field: "apiServer", Name: "kube-apiserver", Binary: "kube-apiserver", Pod: true, Get: func(c Components) Component { return c.APIServer },
		Needed: []string{"advertise-address", "secure-port", "authorization-mode", "authentication-config", "client-ca-file",
			"tls-cert-file", "tls-private-key-file", "etcd-servers", "etcd-cafile", "etcd-certfile", "etcd-keyfile",
			"kubelet-client-certificate", "kubelet-client-key", "kubelet-certificate-authority", "proxy-client-cert-file", "proxy-client-key-file",
			"requestheader-client-ca-file", "requestheader-allowed-names", "service-account-issuer", "service-account-key-file",
			"service-account-signing-key-file", "service-cluster-ip-range", "encryption-provider-config"},
		// kube-apiserver refuses these next to --authentication-config and
		// --authorization-mode (pkg/kubeapiserver/options: "authentication-config
		// file and oidc-* flags are mutually exclusive", and the same for
		// --anonymous-auth and the file's anonymous section, and for
		// --authorization-config and --authorization-mode).
		Conflicts: map[string]string{
			"oidc-":                  "kube-apiserver refuses oidc-* flags next to --authentication-config, which kign sets (JWT authenticators in that file are not in kign yet)",
			"anonymous-auth":         "kube-apiserver refuses it next to the anonymous section of --authentication-config, which kign sets",
			"authorization-config":   "kube-apiserver refuses it next to --authorization-mode, which kign sets",
			"authorization-webhook-": "kign's --authorization-mode is Node,RBAC, without Webhook",
		}},
	{Field: "controllerManager", Name: "kube-controller-manager", Binary: "kube-controller-manager", Pod: true, Get: func(c Components) Component { return c.ControllerManager },
		Needed: []string{"kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "leader-elect", "allocate-node-cidrs",
			"service-cluster-ip-range", "cluster-signing-cert-file", "cluster-signing-key-file", "root-ca-file", "client-ca-file",
			"requestheader-client-ca-file", "service-account-private-key-file", "use-service-account-credentials"}},
	{Field: "scheduler", Name: "kube-scheduler", Binary: "kube-scheduler", Pod: true, Get: func(c Components) Component { return c.Scheduler },
		Needed: []string{"kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "leader-elect"}},
	{Field: "kubeProxy", Name: "kube-proxy", Binary: "kube-proxy", Pod: true, Get: func(c Components) Component { return c.KubeProxy },
		Needed: []string{"config"}},
	{Field: "kubelet", Name: "kubelet", Binary: "kubelet", Get: func(c Components) Component { return c.Kubelet },
		Needed: []string{"config", "kubeconfig", "hostname-override", "node-ip"}},
	{Field: "keepalived", Name: "keepalived", Pod: true, Get: func(c Components) Component { return c.Keepalived },
		Needed: []string{"use-file", "dont-fork", "log-console"}},
}

// PathTypes are the hostPath types an extra volume may name.
var PathTypes = []string{"DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}

var flagName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// FlagSetVersion is the flag table version of component c in a cluster
// of Kubernetes version k8s ("v1.36.4"): "v1.36", or etcd's "v3.6".
func FlagSetVersion(c ComponentSpec, k8s string) (string, error) {
	v := strings.TrimPrefix(k8s, "v")
	if c.Etcd {
		set, err := catalog.Lookup(k8s, "amd64")
		if err != nil {
			return "", err
		}
		v = set.Companions.Etcd
	}
	sv, err := semver.NewVersion(v)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("v%d.%d", sv.Major, sv.Minor), nil
}

// components checks cluster.components and cluster.featureGates against
// the flag tables of the cluster's versions.
func (v *validator) components() {
	c := v.inv.Cluster
	if v.version != "" {
		var sets []flagset.Set
		for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet"} {
			if s, err := flagset.Lookup(b, MinorOf(v.version)); err == nil {
				sets = append(sets, s)
			}
		}
		var known []string
		for _, s := range sets {
			known = append(known, s.Gates()...)
		}
		slices.Sort(known)
		known = slices.Compact(known)
		for _, g := range slices.Sorted(maps.Keys(c.FeatureGates)) {
			if !slices.Contains(known, g) {
				v.errorf("cluster.featureGates."+g, "%q is not a feature gate of Kubernetes %s%s", g, MinorOf(v.version), didYouMean(g, known))
			}
		}
	}
	for _, spec := range ComponentTable {
		comp := spec.Get(c.Components)
		at := "cluster.components." + spec.Field
		var set *flagset.Set
		if spec.Binary != "" && v.version != "" {
			if ver, err := FlagSetVersion(spec, v.version); err == nil {
				if s, err := flagset.Lookup(spec.Binary, ver); err == nil {
					set = &s
				}
			}
		}
		for _, name := range slices.Sorted(maps.Keys(comp.ExtraArgs)) {
			path := at + ".extraArgs." + name
			switch {
			case !flagName.MatchString(name):
				v.errorf(path, "%q is not a flag name: lower-case words joined by '-', without the leading \"--\"", clip(name))
			case name == "feature-gates":
				v.errorf(path, "set feature gates in cluster.featureGates: kign passes each to every component that knows it")
			case slices.Contains(spec.Needed, name):
				v.errorf(path, "--%s is set by kign from the inventory and the PKI, and the cluster needs it as set; it cannot be replaced", name)
			case conflict(spec, name) != "":
				v.errorf(path, "--%s: %s", name, conflict(spec, name))
			case name == "enable-admission-plugins" && !slices.Contains(strings.Split(comp.ExtraArgs[name], ","), "NodeRestriction"):
				v.errorf(path, "keep NodeRestriction in the list (kign sets --enable-admission-plugins=NodeRestriction): without it a kubelet may change other Nodes and label itself a control-plane node")
			case name == "disable-admission-plugins" && slices.Contains(strings.Split(comp.ExtraArgs[name], ","), "NodeRestriction"):
				v.errorf(path, "NodeRestriction may not be disabled: without it a kubelet may change other Nodes and label itself a control-plane node")
			case set == nil:
				// keepalived: no table; the syntax check above is all.
			case set.Kind(name) == flagset.Unknown:
				// Suggest only flags the user may set.
				var settable []string
				for _, f := range set.Flags() {
					if !slices.Contains(spec.Needed, f) && set.Kind(f) == flagset.Flag {
						settable = append(settable, f)
					}
				}
				v.errorf(path, "--%s is not a flag of %s %s%s", name, set.Binary, set.Version, didYouMean(name, settable))
			case set.Kind(name) == flagset.Config:
				v.errorf(path, "--%s belongs in %s's configuration file, which kign writes (%s ignores or deprecates the flag); kign does not take it as a flag", name, set.Binary, set.Binary)
			}
		}
		v.componentConfig(spec.Field, comp.Config)
		names := map[string]bool{}
		for i, vol := range comp.ExtraVolumes {
			path := fmt.Sprintf("%s.extraVolumes[%d]", at, i)
			if !spec.Pod {
				v.errorf(path, "the %s runs on the host, not in a pod: it takes no volumes", spec.Field)
				continue
			}
			if v.required(path+".name", vol.Name) {
				if p := labelProblem(vol.Name); p != "" {
					v.check(path+".name", p)
				} else if names[vol.Name] {
					v.errorf(path+".name", "%q is the name of an earlier extra volume", vol.Name)
				}
				names[vol.Name] = true
			}
			for _, f := range []struct{ field, val string }{{"hostPath", vol.HostPath}, {"mountPath", vol.MountPath}} {
				if v.required(path+"."+f.field, f.val) && (!strings.HasPrefix(f.val, "/") || strings.ContainsAny(f.val, "\x00\r\n")) {
					v.errorf(path+"."+f.field, "%q is not an absolute path", clip(f.val))
				}
			}
			if vol.PathType != "" {
				v.oneOf(path+".pathType", vol.PathType, PathTypes...)
			}
		}
	}
}

// conflict is why component c refuses flag name next to kign's, or "".
func conflict(c ComponentSpec, name string) string {
	for _, f := range slices.Sorted(maps.Keys(c.Conflicts)) {
		if f == name || strings.HasSuffix(f, "-") && strings.HasPrefix(name, f) {
			return c.Conflicts[f]
		}
	}
	return ""
}

// ComponentNamed returns the row whose Name is name.
func ComponentNamed(name string) (ComponentSpec, bool) {
	for _, c := range ComponentTable {
		if c.Name == name {
			return c, true
		}
	}
	return ComponentSpec{}, false
}

// MinorOf is "v1.36" of "v1.36.4".
func MinorOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}
