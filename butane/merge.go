package butane

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Source is one Butane document that goes into a host's config.
type Source struct {
	// Name is how errors name the source: a file path, or "kign" for what
	// kign generates.
	Name string
	// Data is a Butane document; when nil, Value (a typed Config) is used
	// instead, without a round trip through text.
	Data  []byte
	Value *Config
}

// Merge rules, applied source by source onto the first (the skeleton):
//   - variant and version must be equal in every source;
//   - mappings merge key by key;
//   - lists of objects merge by identity: files, directories and links by
//     "path", units, drop-ins, users and groups by "name". Two sources
//     writing the same path is an error naming both; two sources naming the
//     same unit or user merge into one (an overlay may add a drop-in to
//     kubelet.service, or SSH keys to core), and conflict only where both
//     set the same scalar to different values;
//   - other lists (ssh_authorized_keys, kernel arguments) are appended;
//   - a scalar set by two sources to different values is an error.
//
// These mirror Ignition's own merge keys (config/merge), with conflicts made
// errors instead of silent overrides.
func Merge(sources []Source) ([]byte, error) {
	doc, err := MergeDoc(sources)
	if err != nil {
		return nil, err
	}
	return Encode(doc.Root)
}

// MergeDoc is Merge without the final encoding: the merged document, for
// TranslateDoc.
func MergeDoc(sources []Source) (*Doc, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("no Butane sources")
	}
	m := merger{origin: map[*yaml.Node]string{}}
	doc := &Doc{}
	var base *yaml.Node
	for i, s := range sources {
		root, err := parseMapping(s, doc)
		if err != nil {
			return nil, err
		}
		m.mark(root, s.Name)
		if i == 0 {
			base = root
			continue
		}
		for _, key := range []string{"variant", "version"} {
			want, got := scalar(base, key), scalar(root, key)
			if got != want {
				return nil, fmt.Errorf("%s: %s is %q, but kign generates %s %q: write overlays for the same variant and version", s.Name, key, got, key, want)
			}
		}
		m.mapping(base, root, "")
	}
	if len(m.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(m.errs, "\n"))
	}
	doc.Root = base
	return doc, nil
}

// Encode writes a Butane document node as text, indented by two.
func Encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func parseMapping(s Source, d *Doc) (*yaml.Node, error) {
	if s.Data == nil && s.Value != nil {
		return s.Value.node(d), nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(s.Data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", s.Name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: a Butane document must be a mapping", s.Name)
	}
	return doc.Content[0], nil
}

// identity names the key field of the objects in list at path, and whether
// two objects with the same key merge (true) or conflict (false).
func identity(path string) (key string, mergeable bool) {
	switch path {
	case "storage.files", "storage.directories", "storage.links":
		return "path", false
	case "systemd.units", "passwd.users", "passwd.groups":
		return "name", true
	case "storage.disks":
		return "device", false
	case "storage.filesystems":
		return "path", false
	}
	if strings.HasSuffix(path, ".dropins") {
		return "name", false
	}
	return "", false
}

type merger struct {
	origin map[*yaml.Node]string
	errs   []string
}

func (m *merger) mark(n *yaml.Node, name string) {
	m.origin[n] = name
	for _, c := range n.Content {
		m.mark(c, name)
	}
}

func (m *merger) where(n *yaml.Node) string {
	if n.Line == 0 { // built in code, not parsed from text
		return m.origin[n]
	}
	return fmt.Sprintf("%s:%d:%d", m.origin[n], n.Line, n.Column)
}

func (m *merger) conflict(dst, src *yaml.Node, path, what string) {
	m.errs = append(m.errs, fmt.Sprintf("%s: %s: %s, also set at %s", m.where(src), path, what, m.where(dst)))
}

func (m *merger) mapping(dst, src *yaml.Node, path string) {
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		p := join(path, k.Value)
		j := find(dst, k.Value)
		if j < 0 {
			dst.Content = append(dst.Content, k, v)
			continue
		}
		m.value(dst.Content[j+1], v, p)
	}
}

func (m *merger) value(dst, src *yaml.Node, path string) {
	switch {
	case dst.Kind == yaml.MappingNode && src.Kind == yaml.MappingNode:
		m.mapping(dst, src, path)
	case dst.Kind == yaml.SequenceNode && src.Kind == yaml.SequenceNode:
		m.sequence(dst, src, path)
	case dst.Kind == yaml.ScalarNode && src.Kind == yaml.ScalarNode:
		if dst.Value != src.Value || dst.Tag != src.Tag {
			m.conflict(dst, src, path, fmt.Sprintf("set to %q", src.Value))
		}
	default:
		m.conflict(dst, src, path, "has a different shape")
	}
}

func (m *merger) sequence(dst, src *yaml.Node, path string) {
	key, mergeable := identity(path)
	for _, item := range src.Content {
		if key == "" || item.Kind != yaml.MappingNode {
			dst.Content = append(dst.Content, item)
			continue
		}
		id := scalar(item, key)
		var match *yaml.Node
		for _, have := range dst.Content {
			if have.Kind == yaml.MappingNode && scalar(have, key) == id {
				match = have
				break
			}
		}
		itemPath := fmt.Sprintf("%s[%s=%s]", path, key, id)
		switch {
		case match == nil:
			dst.Content = append(dst.Content, item)
		case mergeable:
			m.mapping(match, item, itemPath)
		default:
			m.conflict(match, item, itemPath, "written by two sources")
		}
	}
}

func find(mapping *yaml.Node, key string) int {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func scalar(mapping *yaml.Node, key string) string {
	if i := find(mapping, key); i >= 0 && mapping.Content[i+1].Kind == yaml.ScalarNode {
		return mapping.Content[i+1].Value
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
