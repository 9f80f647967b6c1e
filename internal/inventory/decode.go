package inventory

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kign-project/kign/internal/diag"
)

// decoder fills the typed Inventory from the YAML node tree. It walks the
// Go types by reflection, so the struct tags in types.go are the whole
// schema: each field's YAML name, and "required" for every field without
// omitempty. It records where each value stands and reports every
// structural problem (wrong kind, unknown or duplicate key, missing
// required field) without stopping.
type decoder struct {
	file string
	pos  Positions
	rep  *diag.Report
	// bad holds the paths already reported as unusable; validation says
	// nothing more about them or anything below them.
	bad map[string]bool
	// budget is how many more values may be decoded; aliases can repeat a
	// node many times over.
	budget int
}

func (d *decoder) at(n *yaml.Node) diag.Pos {
	return diag.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// errorf reports a problem that leaves the value at path usable.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.rep.Errorf(d.at(n), path, format, args...)
}

// fail reports a problem that leaves the value at path unusable.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errorf(n, path, format, args...)
	d.bad[path] = true
}

// value decodes n into v, which must be settable. A null value leaves v at
// its zero value, which means "use the default"; a null string or integer
// also gets no position, so that it counts as left out.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(n, path, "the document repeats too much through YAML aliases; write it out without anchors")
		}
		return
	}
	t := deref(n)
	if isNull(t) && (v.Kind() == reflect.String || v.Kind() == reflect.Int || v.Kind() == reflect.Bool) {
		return
	}
	d.pos[path] = d.at(n)
	if isNull(t) {
		return
	}
	if v.Type() == configFieldsType {
		if d.expect(n, t, yaml.MappingNode, "a mapping", path) {
			d.configFields(t, v, path)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if d.expect(n, t, yaml.MappingNode, "a mapping", path) {
			d.structure(t, v, path)
		}
	case reflect.Map:
		if d.expect(n, t, yaml.MappingNode, "a mapping", path) {
			d.dict(t, v, path)
		}
	case reflect.Slice:
		if d.expect(n, t, yaml.SequenceNode, "a list", path) {
			d.list(t, v, path)
		}
	case reflect.String:
		if d.expect(n, t, yaml.ScalarNode, "a string", path) {
			v.SetString(t.Value)
		}
	case reflect.Int:
		if d.expect(n, t, yaml.ScalarNode, "an integer", path) {
			d.integer(n, t, v, path)
		}
	case reflect.Bool:
		// Only YAML 1.2's true and false: yes/no/on/off are strings there
		// and a typo for a boolean here.
		if d.expect(n, t, yaml.ScalarNode, "true or false", path) {
			if t.ShortTag() != "!!bool" {
				d.fail(n, path, "must be true or false, not %s", describe(t))
				return
			}
			var b bool
			if err := t.Decode(&b); err != nil {
				d.fail(n, path, "must be true or false, not %s", describe(t))
				return
			}
			v.SetBool(b)
		}
	default:
		// types.go gained a kind of field this decoder does not know;
		// TestDecodeEveryField catches it before a user can.
		panic(fmt.Sprintf("inventory: cannot decode into %s at %s", v.Type(), path))
	}
}

// expect checks that t (n with aliases resolved) is a node of kind want,
// described as what.
func (d *decoder) expect(n, t *yaml.Node, want yaml.Kind, what, path string) bool {
	if t.Kind == want {
		return true
	}
	d.fail(n, path, "must be %s, not %s", what, describe(t))
	return false
}

// integer decodes a YAML !!int (decimal, 0x, 0o; what yaml.v3 resolves).
func (d *decoder) integer(n, t *yaml.Node, v reflect.Value, path string) {
	if t.ShortTag() != "!!int" {
		d.fail(n, path, "must be an integer, not %s", describe(t))
		return
	}
	var i int
	if err := t.Decode(&i); err != nil {
		d.fail(n, path, "integer %s is out of range", clip(t.Value))
		return
	}
	v.SetInt(int64(i))
}

// field is one YAML key of a struct.
type field struct {
	name     string
	index    int
	required bool
}

// fieldsOf lists the YAML fields of struct type t from its yaml tags.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, field{name: name, index: i, required: !strings.Contains(","+opts+",", ",omitempty,")})
	}
	return out
}

// structure decodes mapping n into struct v.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	fields := fieldsOf(v.Type())
	var names []string
	for _, f := range fields {
		names = append(names, f.name)
	}
	seen := map[string]*yaml.Node{}
	// misspelt holds the fields an unknown key was taken for, so that a typo
	// of a required field is reported once, as the unknown key.
	misspelt := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path)
		if !ok {
			continue
		}
		p := join(path, name)
		if first, dup := seen[name]; dup {
			d.errorf(k, p, "duplicate key %q (first at line %d)", name, first.Line)
			continue
		}
		seen[name] = k
		f, known := lookup(fields, name)
		switch {
		case !known:
			guess := closest(name, names)
			misspelt[guess] = guess != ""
			d.errorf(k, p, "unknown field %q%s", name, didYouMean(name, names))
		case f.required && isNull(deref(val)):
			d.pos[p] = d.at(val)
			d.fail(val, p, "must not be empty%s", example(p))
		default:
			d.value(val, v.Field(f.index), p)
		}
	}
	for _, f := range fields {
		p := join(path, f.name)
		switch {
		case !f.required || seen[f.name] != nil:
		case misspelt[f.name]:
			d.bad[p] = true
		default:
			d.fail(n, p, "missing required field %q%s", f.name, example(p))
		}
	}
}

// dict decodes mapping n into a map with string keys.
func (d *decoder) dict(n *yaml.Node, v reflect.Value, path string) {
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name, ok := d.key(k, path)
		if !ok {
			continue
		}
		p := join(path, name)
		if first, dup := seen[name]; dup {
			d.errorf(k, p, "duplicate key %q (first at line %d)", name, first.Line)
			continue
		}
		seen[name] = k
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(val, elem, p)
		v.SetMapIndex(reflect.ValueOf(name), elem)
	}
}

// list decodes sequence n into a slice.
func (d *decoder) list(n *yaml.Node, v reflect.Value, path string) {
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// key returns the text of a mapping key, refusing keys that are not plain
// scalars and YAML merge keys (<<), which this schema-driven decoder does
// not expand.
func (d *decoder) key(k *yaml.Node, path string) (string, bool) {
	t := deref(k)
	switch {
	case t.Kind != yaml.ScalarNode:
		d.errorf(k, path, "a key must be a plain string, not %s", describe(t))
		return "", false
	case t.ShortTag() == "!!merge":
		d.errorf(k, path, "merge keys (<<) are not supported; write the fields out")
		return "", false
	}
	return t.Value, true
}

func lookup(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// join appends a mapping key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// deref follows aliases to the anchored node. yaml.v3 never builds an
// alias to an alias, but the loop is bounded anyway.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "a YAML node"
}

// describe names what a node is, for "must be X, not Y".
func describe(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n.Kind)
	}
	return strconv.Quote(clip(n.Value))
}

// examples show, for a missing required field, what a value looks like.
var examples = map[string]string{
	"cluster":               "cluster: {name: prod, serviceCIDR: ..., podCIDR: ..., apiServer: {vip: ...}}",
	"cluster.name":          "name: prod",
	"cluster.serviceCIDR":   "serviceCIDR: 10.96.0.0/12",
	"cluster.podCIDR":       "podCIDR: 10.244.0.0/16",
	"cluster.apiServer":     "apiServer: {vip: 192.168.1.10}",
	"cluster.apiServer.vip": "vip: 192.168.1.10",
	"hosts":                 "hosts: [{name: master0, ip: 192.168.1.11}]",
	"hosts[].name":          "name: master0",
	"hosts[].ip":            "ip: 192.168.1.11",
}

var index = regexp.MustCompile(`\[\d+\]`)

func example(path string) string {
	if e, ok := examples[index.ReplaceAllString(path, "[]")]; ok {
		return " (e.g. " + e + ")"
	}
	return ""
}
