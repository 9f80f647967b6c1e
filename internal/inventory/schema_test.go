package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite schema/hosts.schema.json")

const schemaFile = "../../schema/hosts.schema.json"

// The shipped schema is the one the types give: a field added to types.go
// without `go test ./internal/inventory -run TestSchema -update-schema`
// fails here.
func TestSchemaUpToDate(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	if *updateSchema {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the inventory types give (%v): run go test ./internal/inventory -run TestSchema -update-schema", schemaFile, err)
	}
}

// Every example inventory conforms to the schema, and the schema refuses
// what the loader refuses structurally: an unknown field, a wrong type, a
// missing required field, a value outside a fixed set.
func TestSchemaChecksInventories(t *testing.T) {
	raw, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob("../../examples/*/hosts.yaml")
	if len(examples) < 3 {
		t.Fatalf("examples: %v", examples)
	}
	for _, path := range examples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if problems := schemaCheck(t, schema, data); len(problems) > 0 {
			t.Errorf("%s: %v", path, problems)
		}
	}
	base := "cluster: {name: c, serviceCIDR: 10.96.0.0/12, podCIDR: 10.244.0.0/16, apiServer: {vip: 10.0.0.1}}\nhosts: [{name: a, ip: 10.0.0.2}]\n"
	for doc, want := range map[string]string{
		base:                                "",
		base + "pki: {keyAlgorithm: dsa}\n": "pki.keyAlgorithm: \"dsa\" is not one of",
		base + "delivery: {bot: live}\n":    "delivery: unknown field bot",
		base + "cluster2: {}\n":             ": unknown field cluster2",
		"cluster: {name: c}\nhosts: []\n":   "cluster: missing serviceCIDR",
		base + "cluster: {maxPods: many}\n": "cluster.maxPods: want integer",
		base + "cluster: {updates: {window: {days: [Sunday]}}}\n": "cluster.updates.window.days[0]: \"Sunday\" is not one of",
	} {
		problems := schemaCheck(t, schema, []byte(doc))
		if want == "" && len(problems) > 0 || want != "" && !slices.ContainsFunc(problems, func(p string) bool { return len(p) >= len(want) && p[:len(want)] == want }) {
			t.Errorf("%q: problems %v, want one starting %q", doc, problems, want)
		}
	}
}

// schemaCheck applies the part of JSON Schema the generated schema uses.
func schemaCheck(t *testing.T, schema map[string]any, doc []byte) []string {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var problems []string
	var walk func(s map[string]any, v any, path string)
	walk = func(s map[string]any, v any, path string) {
		switch s["type"] {
		case "object":
			m, ok := v.(map[string]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: want object", path))
				return
			}
			props, _ := s["properties"].(map[string]any)
			for _, r := range asStrings(s["required"]) {
				if _, ok := m[r]; !ok {
					problems = append(problems, fmt.Sprintf("%s: missing %s", path, r))
				}
			}
			for k, x := range m {
				sub := join(path, k)
				if p, ok := props[k].(map[string]any); ok {
					walk(p, x, sub)
				} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
					walk(ap, x, sub)
				} else if s["additionalProperties"] == true {
					// A configuration file's fields: any, checked by kign.
				} else {
					problems = append(problems, fmt.Sprintf("%s: unknown field %s", path, k))
				}
			}
		case "array":
			l, ok := v.([]any)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: want array", path))
				return
			}
			for i, x := range l {
				walk(s["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", path, i))
			}
		case "string":
			str, ok := v.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: want string", path))
			} else if e := asStrings(s["enum"]); e != nil && !slices.Contains(e, str) {
				problems = append(problems, fmt.Sprintf("%s: %q is not one of %v", path, str, e))
			}
		case "integer":
			if f, ok := v.(float64); !ok || f != float64(int64(f)) {
				problems = append(problems, fmt.Sprintf("%s: want integer", path))
			}
		}
	}
	walk(schema, v, "")
	return problems
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}
