package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	yamlv2 "go.yaml.in/yaml/v2"
)

// marshalYAML writes obj as sigs.k8s.io/yaml.Marshal does, byte for byte
// (TestMarshalYAMLMatchesSigsYAML): JSON through obj's json tags, then YAML
// with sorted keys from go-yaml v2. sigs.k8s.io/yaml reads its JSON back
// with go-yaml's YAML parser to keep integers integers, which was a tenth of
// the time of a host's config; here encoding/json reads it, with numbers
// typed the way go-yaml types them.
func marshalYAML(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("error marshaling into JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	v, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	return yamlv2.Marshal(v)
}

// jsonValue reads one JSON value as go-yaml v2 would decode it into an
// interface{}: objects as maps, arrays as slices, integers as int (int64 or
// uint64 beyond int's range), other numbers as float64.
func jsonValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := k.(string)
				if !ok {
					return nil, fmt.Errorf("JSON object key %v is not a string", k)
				}
				if m[key], err = jsonValue(dec); err != nil {
					return nil, err
				}
			}
			_, err := dec.Token() // '}'
			return m, err
		case '[':
			s := []any{}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				s = append(s, v)
			}
			_, err := dec.Token() // ']'
			return s, err
		}
		return nil, fmt.Errorf("unexpected JSON delimiter %v", t)
	case json.Number:
		return number(string(t))
	case string, bool, nil:
		return t, nil
	}
	if err == io.EOF {
		return nil, err
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
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
