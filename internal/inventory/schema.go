package inventory

import (
	_ "embed"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"

	"github.com/kign-project/kign/images"
	"github.com/kign-project/kign/internal/osvariant"
)

// typesSource is types.go itself: its doc comments are the schema's
// descriptions, so the schema says what the code says.
//
//go:embed types.go
var typesSource []byte

// SchemaID is where the schema is published in the repository.
const SchemaID = "https://github.com/kign-project/kign/schema/hosts.schema.json"

// enums are the fields whose values form a fixed set, by field path (with
// [] for list items); each set is read from where the code defines it.
func enums() map[string][]string {
	var streams []string
	for _, o := range osvariant.Table {
		for _, s := range o.Streams {
			if !slices.Contains(streams, s) {
				streams = append(streams, s)
			}
		}
	}
	out := map[string][]string{
		"cluster.os":                    osvariant.Names(),
		"cluster.updates.strategy":      {UpdatesWindows, UpdatesOff},
		"cluster.audit.policy":          {AuditDefault, AuditOff},
		"cluster.updates.window.days[]": weekdays,
		"hosts[].updateWindow.days[]":   weekdays,
		"pki.keyAlgorithm":              {"rsa", "ecdsa"},
		"artifacts.arch":                images.Arches,
		"images.stream":                 streams,
		"delivery.boot":                 {BootInstall, BootLive},
	}
	for _, c := range ComponentTable {
		out["cluster.components."+c.Field+".extraVolumes[].pathType"] = PathTypes
	}
	return out
}

// Schema is the JSON Schema (draft 2020-12) of hosts.yaml, generated from
// the Inventory types: every field with its YAML name, type and doc
// comment, required fields (those without omitempty), no unknown fields,
// and the fixed value sets. Editors that speak yaml-language-server use it
// for completion and checks; kign's own loader stays the authority (it
// also checks what a schema cannot, such as addresses inside CIDRs).
func Schema() ([]byte, error) {
	docs, err := fieldDocs(typesSource)
	if err != nil {
		return nil, err
	}
	g := schemaGen{docs: docs, enums: enums()}
	root := g.of(reflect.TypeOf(Inventory{}), "")
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "kign inventory (hosts.yaml)"
	root["description"] = docs["Inventory"]
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

type schemaGen struct {
	docs  map[string]string // "Type" and "Type.Field" -> doc comment
	enums map[string][]string
}

func (g schemaGen) of(t reflect.Type, path string) map[string]any {
	if t == configFieldsType {
		return map[string]any{"type": "object", "additionalProperties": true}
	}
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for _, f := range fieldsOf(t) {
			sf := t.Field(f.index)
			s := g.of(sf.Type, join(path, f.name))
			doc := g.docs[t.Name()+"."+sf.Name]
			if doc == "" {
				doc = g.docs[sf.Type.Name()]
			}
			// "InstallDisk is ..." reads as "installDisk is ..." in YAML terms.
			if rest, ok := strings.CutPrefix(doc, sf.Name+" "); ok {
				doc = f.name + " " + rest
			}
			if doc != "" {
				s["description"] = doc
			}
			props[f.name] = s
			if f.required {
				required = append(required, f.name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem(), path+"[]")}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem(), path+".*")}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if e, ok := g.enums[path]; ok {
			s["enum"] = e
		}
		return s
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	}
	panic("inventory: no schema for " + t.String() + " at " + path)
}

// fieldDocs reads the doc comments of the types in src and their fields,
// as "Type" and "Type.Field", each folded into one line.
func fieldDocs(src []byte) (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			docs[ts.Name.Name] = oneLine(gd.Doc)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, fl := range st.Fields.List {
				doc := fl.Doc
				if doc == nil {
					doc = fl.Comment
				}
				for _, n := range fl.Names {
					docs[ts.Name.Name+"."+n.Name] = oneLine(doc)
				}
			}
		}
	}
	return docs, nil
}

func oneLine(c *ast.CommentGroup) string {
	if c == nil {
		return ""
	}
	return strings.Join(strings.Fields(c.Text()), " ")
}
