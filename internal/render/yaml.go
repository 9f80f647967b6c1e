package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
	sigsyaml "sigs.k8s.io/yaml"
)

// marshalYAML writes obj as sigs.k8s.io/yaml.Marshal does, byte for byte
// (TestMarshalYAMLMatchesSigsYAML): JSON through obj's json tags, then YAML
// with sorted keys from go-yaml v2. sigs.k8s.io/yaml reads its JSON back
// with go-yaml's YAML parser to keep integers integers, which was a tenth of
// the time of a host's config; here encoding/json reads it, with numbers
// typed the way go-yaml types them. The few texts where go-yaml's parser
// reads differently from JSON (characters YAML forbids or folds, numbers
// beyond float64) still go through sigs.k8s.io/yaml.
func marshalYAML(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("error marshaling into JSON: %w", err)
	}
	if yamlReadsDifferently(j) {
		return sigsyaml.JSONToYAML(j)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if v, err = typed(v); err != nil {
		return sigsyaml.JSONToYAML(j)
	}
	return yamlv2.Marshal(v)
}

// yamlReadsDifferently reports whether JSON text holds a character that
// go-yaml's reader refuses (DEL, C1 controls, U+FFFE, U+FFFF) or reads as
// a line break inside a quoted string (NEL, U+0085). encoding/json escapes
// every other control character and U+2028/U+2029.
func yamlReadsDifferently(j []byte) bool {
	for i, c := range j {
		switch {
		case c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(j) && j[i+1] >= 0x80 && j[i+1] <= 0x9f:
			return true
		case c == 0xef && i+2 < len(j) && j[i+1] == 0xbf && (j[i+2] == 0xbe || j[i+2] == 0xbf):
			return true
		}
	}
	return false
}

// typed replaces every json.Number in a decoded JSON value with the type
// go-yaml v2 gives that number when it reads it: int (int64 or uint64
// beyond int's range) for integers, float64 otherwise.
func typed(v any) (any, error) {
	var err error
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if v[k], err = typed(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range v {
			if v[i], err = typed(e); err != nil {
				return nil, err
			}
		}
	case json.Number:
		return number(string(v))
	}
	return v, nil
}

// number types a JSON number as go-yaml v2's resolver does.
func number(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if int64(int(i)) == i {
			return int(i), nil
		}
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("JSON number %q: %w", s, err)
	}
	return f, nil
}
