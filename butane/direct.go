package butane

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	baseutil "github.com/coreos/butane/base/util"
	"github.com/coreos/butane/config/common"
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
// storage.files and storage.directories lists, and their values; and how
// many entries of each list are left for Butane.
type direct struct {
	files               []positioned[File]
	dirs                []positioned[Directory]
	restFiles, restDirs int
}

// errShape: Butane's translation of the rest has more or fewer entries in a
// list than the rest has (fcos grub.users adds /boot/grub2/user.cfg to the
// files), so positions from the merged list no longer hold. TranslateDoc
// then lets Butane translate the whole document.
var errShape = errors.New("butane: translated list does not match its document")

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
			out.restFiles = len(keep)
		case "directories":
			keep = pick(list, d.dirs, &out.dirs)
			out.restDirs = len(keep)
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
// what Butane translated from the rest of the list, which must have as many
// entries as the rest had (want).
func insert[T, I any](rest []I, want int, entries []positioned[T], conv func(T) (I, error)) ([]I, error) {
	if len(entries) == 0 {
		return rest, nil
	}
	if len(rest) != want {
		return nil, errShape
	}
	out := make([]I, 0, len(rest)+len(entries))
	next := 0
	for _, e := range entries {
		for len(out) < e.at {
			if next >= len(rest) {
				return nil, errShape
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

// resource is a typed Resource as Butane translates it, with Butane's own
// rule for it: one source only.
func resource(r Resource) (source, compression, hash *string, err error) {
	switch {
	case r.Inline != nil && r.Source != "":
		return nil, nil, nil, common.ErrTooManyResourceSources
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

// modePtr is a mode as Butane translates it; a mode that looks like a
// decimal slip (420 for 0644) is Butane's warning, an error in strict mode.
func modePtr(path string, m Mode, dir bool) (*int, error) {
	if m == 0 {
		return nil, nil
	}
	v := int(m)
	if err := baseutil.CheckForDecimalMode(v, dir); err != nil {
		return nil, fmt.Errorf("%s: mode: %w", path, err)
	}
	return &v, nil
}

func file35(f File) (t35.File, error) {
	src, comp, hash, err := resource(f.Contents)
	if err != nil {
		return t35.File{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	out := t35.File{Node: t35.Node{Path: f.Path, Overwrite: f.Overwrite}}
	out.Contents = t35.Resource{Source: src, Compression: comp, Verification: t35.Verification{Hash: hash}}
	out.Mode, err = modePtr(f.Path, f.Mode, false)
	return out, err
}

func dir35(d Directory) (t35.Directory, error) {
	mode, err := modePtr(d.Path, d.Mode, true)
	return t35.Directory{Node: t35.Node{Path: d.Path}, DirectoryEmbedded1: t35.DirectoryEmbedded1{Mode: mode}}, err
}

func file34(f File) (t34.File, error) {
	src, comp, hash, err := resource(f.Contents)
	if err != nil {
		return t34.File{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	out := t34.File{Node: t34.Node{Path: f.Path, Overwrite: f.Overwrite}}
	out.Contents = t34.Resource{Source: src, Compression: comp, Verification: t34.Verification{Hash: hash}}
	out.Mode, err = modePtr(f.Path, f.Mode, false)
	return out, err
}

func dir34(d Directory) (t34.Directory, error) {
	mode, err := modePtr(d.Path, d.Mode, true)
	return t34.Directory{Node: t34.Node{Path: d.Path}, DirectoryEmbedded1: t34.DirectoryEmbedded1{Mode: mode}}, err
}

// join35 and join34 put the typed entries into Butane's translation of the
// rest of the document.
func join35(c *t35.Config, d direct) (err error) {
	if c.Storage.Files, err = insert(c.Storage.Files, d.restFiles, d.files, file35); err != nil {
		return err
	}
	c.Storage.Directories, err = insert(c.Storage.Directories, d.restDirs, d.dirs, dir35)
	return err
}

func join34(c *t34.Config, d direct) (err error) {
	if c.Storage.Files, err = insert(c.Storage.Files, d.restFiles, d.files, file34); err != nil {
		return err
	}
	c.Storage.Directories, err = insert(c.Storage.Directories, d.restDirs, d.dirs, dir34)
	return err
}
