package inventory

import (
	"encoding/json"
	"fmt"

	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	kubeproxyconfigv1alpha1 "k8s.io/kube-proxy/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"
)

// ConfigFields are fields of a component's configuration file, kept as
// the JSON of the inventory's YAML mapping; the validator checks them
// against the file's Go type, the renderer merges them over kign's file.
type ConfigFields struct {
	json []byte
	keys []string // top-level keys, in inventory order
}

var configFieldsType = reflect.TypeOf(ConfigFields{})

// JSON returns the fields as a JSON object; nil when none were given.
func (c ConfigFields) JSON() []byte { return c.json }

// configFields records the mapping's JSON and the position of each key.
func (d *decoder) configFields(n *yaml.Node, v reflect.Value, path string) {
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	data, err := json.Marshal(m)
	if err != nil {
		d.fail(n, path, "not a JSON-like mapping: %v", err)
		return
	}
	var keys []string
	var mark func(n *yaml.Node, path string)
	mark = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(path, n.Content[i].Value)
				d.pos[p] = d.at(n.Content[i+1])
				mark(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				d.pos[p] = d.at(e)
				mark(e, p)
			}
		}
	}
	mark(n, path)
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys = append(keys, n.Content[i].Value)
	}
	v.Set(reflect.ValueOf(ConfigFields{json: data, keys: keys}))
}

// configFile is a component's configuration file: its Go type and the
// fields kign derives from the inventory, which the inventory's config
// may not set (with where to set them instead).
type configFile struct {
	kind    string
	typ     any
	derived map[string]string
}

var configFiles = map[string]configFile{
	"kubelet": {kind: "KubeletConfiguration", typ: &kubeletconfigv1beta1.KubeletConfiguration{}, derived: map[string]string{
		"apiVersion": "the file kign writes", "kind": "the file kign writes",
		"staticPodPath": "its static pod folder", "clusterDNS": "cluster.dnsServiceIP", "clusterDomain": "cluster.domain",
		"authentication": "its PKI", "authorization": "its PKI", "tlsCertFile": "its PKI", "tlsPrivateKeyFile": "its PKI",
		"rotateCertificates": "its PKI", "serverTLSBootstrap": "its PKI", "cgroupDriver": "containerd's config",
		"containerRuntimeEndpoint": "containerd's socket", "maxPods": "cluster.maxPods", "registerWithTaints": "cluster.allowPodsOnMasters",
		"featureGates": "cluster.featureGates", "volumePluginDir": "the OS's writable folders",
	}},
	// cluster.apiServer.authentication, not a component's config.
	authenticationFile: {kind: "AuthenticationConfiguration", typ: &apiserverv1.AuthenticationConfiguration{}, derived: map[string]string{
		"apiVersion": "the file kign writes", "kind": "the file kign writes",
		"anonymous": "the health checks it must let in (keepalived's, the kubelet's probes)",
	}},
	"kubeProxy": {kind: "KubeProxyConfiguration", typ: &kubeproxyconfigv1alpha1.KubeProxyConfiguration{}, derived: map[string]string{
		"apiVersion": "the file kign writes", "kind": "the file kign writes",
		"clientConnection": "its kube-proxy.conf", "hostnameOverride": "hosts[].name", "clusterCIDR": "cluster.podCIDR",
		"featureGates": "cluster.featureGates",
	}},
}

// authenticationFile keys configFiles' row of kube-apiserver's
// AuthenticationConfiguration.
const authenticationFile = "apiServer.authentication"

// componentConfig checks components.<field>.config.
func (v *validator) componentConfig(field string, c ConfigFields) {
	at := "cluster.components." + field + ".config"
	if c.json == nil {
		return
	}
	f, ok := configFiles[field]
	if !ok || field == authenticationFile {
		v.errorf(at, "the %s has no configuration file kign writes; use extraArgs", field)
		return
	}
	v.configFields(at, f, c)
}

// authentication checks cluster.apiServer.authentication: the file's
// schema, and what kube-apiserver needs of each JWT authenticator.
func (v *validator) authentication() {
	const at = "cluster.apiServer.authentication"
	c := v.inv.Cluster.APIServer.Authentication
	if c.json == nil {
		return
	}
	if !v.configFields(at, configFiles[authenticationFile], c) {
		return
	}
	var a apiserverv1.AuthenticationConfiguration
	if err := sigsyaml.Unmarshal(c.json, &a); err != nil {
		return
	}
	seen := map[string]bool{}
	for i, j := range a.JWT {
		p := fmt.Sprintf("%s.jwt[%d]", at, i)
		switch u := j.Issuer.URL; {
		case !strings.HasPrefix(u, "https://"):
			v.errorf(p+".issuer.url", "%q is not an https:// URL (kube-apiserver requires one)", clip(u))
		case seen[u]:
			v.errorf(p+".issuer.url", "%q is the issuer of an earlier authenticator; each must be unique", clip(u))
		}
		seen[j.Issuer.URL] = true
		if len(j.Issuer.Audiences) == 0 {
			v.errorf(p+".issuer", "audiences: lists none; kube-apiserver needs at least one")
		}
		if j.ClaimMappings.Username.Claim == "" && j.ClaimMappings.Username.Expression == "" {
			v.errorf(p+".claimMappings", "username: set claim or expression; kube-apiserver needs one")
		}
	}
}

// configFields checks fields of configuration file f at path at, and
// reports whether they decode.
func (v *validator) configFields(at string, f configFile, c ConfigFields) bool {
	fields := jsonFields(reflect.TypeOf(f.typ).Elem())
	for _, k := range c.keys {
		// encoding/json matches field names regardless of case, so a key
		// must be a field's exact name: "staticpodpath" would slip past
		// the check below and still replace staticPodPath.
		if !slices.Contains(fields, k) {
			for _, name := range fields {
				if strings.EqualFold(name, k) {
					v.errorf(at+"."+k, "%s has no field %q: field names are case-sensitive (did you mean %q?)", f.kind, k, name)
				}
			}
			continue
		}
		if why, ok := f.derived[k]; ok {
			v.errorf(at+"."+k, "kign sets %s.%s from %s; it cannot be set here", f.kind, k, why)
		}
	}
	typ := reflect.New(reflect.TypeOf(f.typ).Elem()).Interface()
	if err := sigsyaml.UnmarshalStrict(c.json, typ); err != nil {
		msg := err.Error()
		path := at
		// `unknown field "x.y"` names the field: report it there.
		if i := strings.Index(msg, `unknown field "`); i >= 0 {
			name := msg[i+len(`unknown field "`):]
			if j := strings.Index(name, `"`); j >= 0 && v.set(at+"."+name[:j]) {
				path = at + "." + name[:j]
			}
		}
		msg = strings.TrimPrefix(msg, "error unmarshaling JSON: while decoding JSON: ")
		v.errorf(path, "not a valid %s: %s", f.kind, strings.TrimPrefix(msg, "json: "))
		return false
	}
	return true
}

// jsonFields lists the JSON names of struct type t's fields (of embedded
// structs too, as encoding/json flattens them).
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name != "" && name != "-":
			out = append(out, name)
		}
	}
	return out
}

// ConfigFileComponents are the components.<c>.config fields kign takes.
func ConfigFileComponents() []string {
	var out []string
	for k := range configFiles {
		if k != authenticationFile {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
