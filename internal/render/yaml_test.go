package render

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// TestMarshalYAMLMatchesSigsYAML: marshalYAML writes what sigs.k8s.io/yaml
// writes, for every static pod kign renders (the configuration files are
// covered by the golden configs in internal/gen, written before) and for
// values that exercise go-yaml's typing (numbers of every range, floats,
// strings YAML would read as other types, empty collections, nulls).
func TestMarshalYAMLMatchesSigsYAML(t *testing.T) {
	p := testPlan(t, 3)
	var objs []any
	for _, h := range p.Hosts {
		ms, err := StaticPods(p, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			objs = append(objs, m.Pod)
		}
	}
	objs = append(objs,
		map[string]any{
			"int": 1, "neg": -7, "big": int64(math.MaxInt64), "huge": uint64(math.MaxUint64),
			"float": 0.5, "exp": 1e21, "tiny": 1e-9, "whole": 2.0,
			"yes": "yes", "no": "no", "on": "on", "num": "1.0", "octal": "0644", "null": nil,
			"empty": map[string]any{}, "list": []any{}, "nested": []any{map[string]any{"b": 1, "a": "<&>"}},
			"multi": "line one\nline two\n", "colon": "a: b", "unicode": "é ✓", "tab": "\tx",
			"10": "numeric key", "2": "sorted", "a10": 1, "a9": 2,
		},
		[]string{"", " ", "~", "null", "true"},
		// Texts go-yaml's reader folds or refuses, and a number beyond float64.
		map[string]any{"nel": "a\u0085b", "del": "a\x7fb", "c1": "a\u0090b", "fffe": "a\ufffeb", "bom": "a\ufeffb", "ls": "a\u2028b", "astral": "a😀b"},
		map[string]any{"k\u0085": 1},
		map[string]any{"n": json.Number("1e400")},
	)
	for i, obj := range objs {
		want, wantErr := sigsyaml.Marshal(obj)
		got, err := marshalYAML(obj)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("object %d: marshalYAML error %v, sigs.k8s.io/yaml error %v", i, err, wantErr)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("object %d: marshalYAML differs from sigs.k8s.io/yaml:\n--- got\n%s\n--- want\n%s", i, got, want)
		}
	}
}
