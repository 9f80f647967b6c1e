package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kign-project/kign/internal/flagset"
	"github.com/kign-project/kign/internal/inventory"
	"github.com/kign-project/kign/internal/plan"
)

// The inventory's cluster.components and cluster.featureGates, applied to
// what kign renders. The inventory package has checked them against the
// flag tables; here they are merged.

// featureGates returns the gates of p that binary knows, for its
// --feature-gates flag or its configuration file's featureGates.
func featureGates(p *plan.Plan, binary string) (map[string]bool, error) {
	if len(p.FeatureGates) == 0 {
		return nil, nil
	}
	set, err := flagset.Lookup(binary, inventory.MinorOf(p.KubernetesVersion))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for g, on := range p.FeatureGates {
		if set.HasGate(g) {
			out[g] = on
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// gatesFlag renders gates as --feature-gates' value, sorted.
func gatesFlag(gates map[string]bool) string {
	var parts []string
	for _, g := range slices.Sorted(maps.Keys(gates)) {
		parts = append(parts, fmt.Sprintf("%s=%t", g, gates[g]))
	}
	return strings.Join(parts, ",")
}

// withExtraArgs returns fs with extra merged in: a flag of fs is replaced,
// any other added.
func (fs cmdFlags) withExtraArgs(extra map[string]string) cmdFlags {
	out := slices.Clone(fs)
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if i := slices.IndexFunc(out, func(f cmdFlag) bool { return f.name == name }); i >= 0 {
			out[i].value = extra[name]
		} else {
			out = append(out, cmdFlag{name, extra[name]})
		}
	}
	return out
}

// customizePod applies the component's extraArgs, its feature gates and
// extraVolumes to static pod pod (a single container whose Command is the
// binary and its --name=value flags, or bare --name flags for keepalived).
func customizePod(p *plan.Plan, name string, pod *corev1.Pod) error {
	spec, ok := inventory.ComponentNamed(name)
	if !ok {
		return nil
	}
	comp := spec.Get(p.Components)
	c := &pod.Spec.Containers[0]
	extra := maps.Clone(comp.ExtraArgs)
	if spec.Binary != "" && spec.Binary != "etcd" && spec.Binary != "kube-proxy" {
		gates, err := featureGates(p, spec.Binary)
		if err != nil {
			return err
		}
		if gates != nil {
			if extra == nil {
				extra = map[string]string{}
			}
			extra["feature-gates"] = gatesFlag(gates)
		}
	}
	if len(extra) > 0 {
		var fs cmdFlags
		for _, a := range c.Command[1:] {
			n, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !strings.HasPrefix(a, "--") {
				return fmt.Errorf("%s: argument %q is not a --flag", name, a)
			}
			if !ok {
				v = bareValue
			}
			fs = append(fs, cmdFlag{name: n, value: v})
		}
		for k, v := range extra {
			if spec.Binary == "" && v == "" {
				extra[k] = bareValue
			}
		}
		c.Command = append([]string{c.Command[0]}, fs.withExtraArgs(extra).args()...)
	}
	for _, v := range comp.ExtraVolumes {
		if slices.ContainsFunc(pod.Spec.Volumes, func(o corev1.Volume) bool { return o.Name == v.Name }) {
			return fmt.Errorf("cluster.components.%s.extraVolumes: %q is the name of a volume kign mounts; pick another", spec.Field, v.Name)
		}
		t := corev1.HostPathType(v.PathType)
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: v.HostPath, Type: &t}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, ReadOnly: v.ReadOnly})
	}
	return nil
}

// bareValue marks a flag rendered without "=value" (keepalived's options).
const bareValue = "\x00bare"

// mergeConfig merges the inventory's fields of a configuration file
// (JSON, components.<c>.config) over the file kign built in cfg (a
// pointer): mappings merge key by key, anything else is replaced. The
// inventory package has refused the fields kign derives.
func mergeConfig(cfg any, overlay []byte) error {
	if overlay == nil {
		return nil
	}
	base, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	var bm, om map[string]any
	if err := json.Unmarshal(base, &bm); err != nil {
		return err
	}
	if err := json.Unmarshal(overlay, &om); err != nil {
		return err
	}
	merged, err := json.Marshal(deepMerge(bm, om))
	if err != nil {
		return err
	}
	v := reflect.ValueOf(cfg).Elem()
	v.Set(reflect.Zero(v.Type()))
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	return dec.Decode(cfg)
}

func deepMerge(base, over map[string]any) map[string]any {
	for k, ov := range over {
		if om, ok := ov.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = deepMerge(bm, om)
				continue
			}
		}
		base[k] = ov
	}
	return base
}
