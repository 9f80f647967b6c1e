package butane

import (
	"encoding/base64"
	"fmt"
	"strings"

	t34 "github.com/coreos/ignition/v2/config/v3_4/types"
	t35 "github.com/coreos/ignition/v2/config/v3_5/types"
	"gopkg.in/yaml.v3"
)

// Doc is a merged Butane document: its node tree, and an index from the
// node of every file and directory that came from a typed Config (kign's
// generated part) to its typed value.
//
// Those entries are most of a host's document (every certificate, key,
// kubeconfig and manifest) and never merge with another source (two sources
// writing one path is an error), so TranslateDoc turns them into Ignition
// itself, with Butane's data-URL encoding (dataURL), and leaves the rest
// (the skeleton, the overlays, users, units) to Butane's translator. Butane's
// generic translation of a file costs far more than the file: it tracks
// every field's path for error reports that typed values cannot need.
// TestTranslateDocMatchesTranslate proves the JSON is Butane's, byte for
// byte, for both variants, with and without overlays.
type Doc struct {
	Root  *yaml.Node
	files map[*yaml.Node]File
	dirs  map[*yaml.Node]Directory
}

// record notes the typed value behind a node built by Config.node.
func (d *Doc) record(n *yaml.Node, v any) {
	if d.files == nil {
		d.files, d.dirs = map[*yaml.Node]File{}, map[*yaml.Node]Directory{}
	}
	switch v := v.(type) {
	case File:
		d.files[n] = v
	case Directory:
		d.dirs[n] = v
	}
}

// direct is the part of a Doc translated by kign: positions in the merged
// storage.files and storage.directories lists, and their values.
type direct struct {
	files []positioned[File]
	dirs  []positioned[Directory]
}

type positioned[T any] struct {
	at int
	v  T
}

// split returns the document Butane translates (the merged tree without
// the typed entries; the tree itself is not changed) and the typed entries
// with their positions.
func (d *Doc) split() (*yaml.Node, direct) {
	var out direct
	if len(d.files) == 0 && len(d.dirs) == 0 {
		return d.Root, out
	}
	storage := valueOf(d.Root, "storage")
	if storage == nil || storage.Kind != yaml.MappingNode {
		return d.Root, out
	}
	newStorage := *storage
	newStorage.Content = append([]*yaml.Node(nil), storage.Content...)
	for i := 0; i+1 < len(newStorage.Content); i += 2 {
		list := newStorage.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			continue
		}
		var keep []*yaml.Node
		switch newStorage.Content[i].Value {
		case "files":
			keep = pick(list, d.files, &out.files)
		case "directories":
			keep = pick(list, d.dirs, &out.dirs)
		default:
			continue
		}
		l := *list
		l.Content = keep
		newStorage.Content[i+1] = &l
	}
	root := *d.Root
	root.Content = append([]*yaml.Node(nil), d.Root.Content...)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "storage" {
			root.Content[i+1] = &newStorage
		}
	}
	return &root, out
}

func pick[T any](list *yaml.Node, typed map[*yaml.Node]T, out *[]positioned[T]) []*yaml.Node {
	keep := make([]*yaml.Node, 0, len(list.Content))
	for i, item := range list.Content {
		if v, ok := typed[item]; ok {
			*out = append(*out, positioned[T]{at: i, v: v})
			continue
		}
		keep = append(keep, item)
	}
	return keep
}

func valueOf(mapping *yaml.Node, key string) *yaml.Node {
	if i := find(mapping, key); i >= 0 {
		return mapping.Content[i+1]
	}
	return nil
}

// insert puts each typed entry, translated by conv, back at its position in
// what Butane translated from the rest of the list.
func insert[T, I any](rest []I, entries []positioned[T], conv func(T) (I, error)) ([]I, error) {
	if len(entries) == 0 {
		return rest, nil
	}
	out := make([]I, 0, len(rest)+len(entries))
	next := 0
	for _, e := range entries {
		for len(out) < e.at {
			if next >= len(rest) {
				return nil, fmt.Errorf("internal: Butane's translation has fewer entries than its document")
			}
			out = append(out, rest[next])
			next++
		}
		v, err := conv(e.v)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return append(out, rest[next:]...), nil
}

// dataURL is what Butane's data-URL encoder (base/util.MakeDataURL) makes
// of inline contents when compression is off (translateOptions): the
// shorter of a percent-encoded and a base64 data URL, and an explicitly
// empty compression. That encoder formats every escaped byte with
// fmt.Fprintf and builds both forms; this one counts first and builds only
// the shorter, the same bytes (TestDataURLMatchesButane).
func dataURL(inline string) (source, compression *string, err error) {
	escaped := 0
	for i := 0; i < len(inline); i++ {
		if unreserved(inline[i]) {
			escaped++
		} else {
			escaped += 3
		}
	}
	const scheme = "data:"
	var uri string
	if b64 := len(";base64,") + base64.StdEncoding.EncodedLen(len(inline)); b64 < 1+escaped {
		uri = scheme + ";base64," + base64.StdEncoding.EncodeToString([]byte(inline))
	} else {
		const hex = "0123456789ABCDEF"
		buf := make([]byte, 0, len(scheme)+1+escaped)
		buf = append(buf, scheme+","...)
		for i := 0; i < len(inline); i++ {
			if c := inline[i]; unreserved(c) {
				buf = append(buf, c)
			} else {
				buf = append(buf, '%', hex[c>>4], hex[c&15])
			}
		}
		uri = string(buf)
	}
	empty := ""
	return &uri, &empty, nil
}

// unreserved is RFC 2396's unreserved set, which the data-URL encoder
// Butane uses (github.com/vincent-petithory/dataurl) leaves unescaped.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

// resource is a typed Resource as Butane translates it.
func resource(r Resource) (source, compression, hash *string, err error) {
	switch {
	case r.Inline != nil:
		source, compression, err = dataURL(*r.Inline)
	case r.Source != "":
		s := r.Source
		source = &s
	}
	if r.Verification != nil {
		h := r.Verification.Hash
		hash = &h
	}
	return source, compression, hash, err
}

func modePtr(m Mode) *int {
	if m == 0 {
		return nil
	}
	v := int(m)
	return &v
}

func file35(f File) (t35.File, error) {
	src, comp, hash, err := resource(f.Contents)
	out := t35.File{Node: t35.Node{Path: f.Path, Overwrite: f.Overwrite}}
	out.Mode = modePtr(f.Mode)
	out.Contents = t35.Resource{Source: src, Compression: comp, Verification: t35.Verification{Hash: hash}}
	return out, err
}

func dir35(d Directory) (t35.Directory, error) {
	return t35.Directory{Node: t35.Node{Path: d.Path}, DirectoryEmbedded1: t35.DirectoryEmbedded1{Mode: modePtr(d.Mode)}}, nil
}

func file34(f File) (t34.File, error) {
	src, comp, hash, err := resource(f.Contents)
	out := t34.File{Node: t34.Node{Path: f.Path, Overwrite: f.Overwrite}}
	out.Mode = modePtr(f.Mode)
	out.Contents = t34.Resource{Source: src, Compression: comp, Verification: t34.Verification{Hash: hash}}
	return out, err
}

func dir34(d Directory) (t34.Directory, error) {
	return t34.Directory{Node: t34.Node{Path: d.Path}, DirectoryEmbedded1: t34.DirectoryEmbedded1{Mode: modePtr(d.Mode)}}, nil
}

// join35 and join34 put the typed entries into Butane's translation of the
// rest of the document.
func join35(c *t35.Config, d direct) (err error) {
	if c.Storage.Files, err = insert(c.Storage.Files, d.files, file35); err != nil {
		return err
	}
	c.Storage.Directories, err = insert(c.Storage.Directories, d.dirs, dir35)
	return err
}

func join34(c *t34.Config, d direct) (err error) {
	if c.Storage.Files, err = insert(c.Storage.Files, d.files, file34); err != nil {
		return err
	}
	c.Storage.Directories, err = insert(c.Storage.Directories, d.dirs, dir34)
	return err
}
