package butane

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Node builds the YAML node tree of a generated config directly, field by
// field in Butane's order, without the text round trip of yaml.Node.Encode.
// `kign gen` spends most of its time on YAML; the generated part is the bulk
// of every host's document.
func (c *Config) Node() *yaml.Node { return c.node(nil) }

// node is Node, recording in d (when not nil) the typed value behind every
// file and directory node, for TranslateDoc.
func (c *Config) node(d *Doc) *yaml.Node {
	m := mapping()
	m.add("variant", str(c.Variant))
	m.add("version", str(c.Version))
	if c.Passwd != nil {
		users := seq()
		for _, u := range c.Passwd.Users {
			um := mapping()
			um.add("name", str(u.Name))
			if len(u.SSHAuthorizedKeys) > 0 {
				keys := seq()
				for _, k := range u.SSHAuthorizedKeys {
					keys.Content = append(keys.Content, str(k))
				}
				um.add("ssh_authorized_keys", keys)
			}
			users.Content = append(users.Content, um.Node)
		}
		pm := mapping()
		pm.add("users", users)
		m.add("passwd", pm.Node)
	}
	if c.Storage != nil {
		sm := mapping()
		if len(c.Storage.Directories) > 0 {
			dirs := seq()
			for _, dir := range c.Storage.Directories {
				dm := mapping()
				dm.add("path", str(dir.Path))
				if dir.Mode != 0 {
					dm.add("mode", mode(dir.Mode))
				}
				dirs.Content = append(dirs.Content, dm.Node)
				if d != nil {
					d.record(dm.Node, dir)
				}
			}
			sm.add("directories", dirs)
		}
		if len(c.Storage.Files) > 0 {
			files := seq()
			for _, f := range c.Storage.Files {
				n := f.node()
				files.Content = append(files.Content, n)
				if d != nil {
					d.record(n, f)
				}
			}
			sm.add("files", files)
		}
		m.add("storage", sm.Node)
	}
	if c.Systemd != nil {
		units := seq()
		for _, u := range c.Systemd.Units {
			um := mapping()
			um.add("name", str(u.Name))
			if u.Enabled != nil {
				um.add("enabled", boolean(*u.Enabled))
			}
			if u.Contents != "" {
				um.add("contents", str(u.Contents))
			}
			if len(u.Dropins) > 0 {
				ds := seq()
				for _, di := range u.Dropins {
					dm := mapping()
					dm.add("name", str(di.Name))
					dm.add("contents", str(di.Contents))
					ds.Content = append(ds.Content, dm.Node)
				}
				um.add("dropins", ds)
			}
			units.Content = append(units.Content, um.Node)
		}
		sd := mapping()
		sd.add("units", units)
		m.add("systemd", sd.Node)
	}
	return m.Node
}

func (f File) node() *yaml.Node {
	fm := mapping()
	fm.add("path", str(f.Path))
	if f.Mode != 0 {
		fm.add("mode", mode(f.Mode))
	}
	if f.Overwrite != nil {
		fm.add("overwrite", boolean(*f.Overwrite))
	}
	cm := mapping()
	if f.Contents.Inline != nil {
		cm.add("inline", str(*f.Contents.Inline))
	}
	if f.Contents.Source != "" {
		cm.add("source", str(f.Contents.Source))
	}
	if f.Contents.Verification != nil {
		vm := mapping()
		vm.add("hash", str(f.Contents.Verification.Hash))
		cm.add("verification", vm.Node)
	}
	fm.add("contents", cm.Node)
	return fm.Node
}

type mapNode struct{ *yaml.Node }

func mapping() mapNode { return mapNode{&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}} }

func (m mapNode) add(key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func seq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

// str is a string scalar; text with line breaks is written as a literal
// block, as a person would write a file's contents. yaml.v3 writes some
// texts as blocks that do not read back the same (leading line breaks,
// only line breaks, a tab first), in a literal style and even in its own
// choice of style; those, and other texts with tabs, are written
// double-quoted, which always reads back (TestStrRoundTrips).
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case strings.Contains(s, "\n") && s[0] != '\n' && s[0] != '\t':
		n.Style = yaml.LiteralStyle
	case strings.ContainsAny(s, "\n\t"):
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}
}

func mode(m Mode) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprintf("0%o", int(m))}
}
