package inventory

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/kign-project/kign/internal/diag"
)

// Load reads the inventory at path and its lock file (LockPath), and parses
// and validates them (see Parse).
func Load(path string) (*Inventory, diag.Report) { return load(path, false) }

// LoadForLock is Load for `kign artifacts lock`: downloads without a hash
// are not reported (the lock is there to record theirs); everything else is.
func LoadForLock(path string) (*Inventory, diag.Report) { return load(path, true) }

func load(path string, locking bool) (*Inventory, diag.Report) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		var rep diag.Report
		rep.Errorf(diag.Pos{File: path}, "", "cannot read the inventory: %v", err)
		return nil, rep
	}
	lock, lockRep := ReadLock(path)
	inv, rep := parse(path, data, lock, locking)
	rep.Merge(lockRep)
	rep.Sort()
	return inv, rep
}

// Parse decodes and validates one hosts.yaml document; file names it in
// diagnostics and becomes Inventory.File. It does no I/O.
//
// The report holds every problem found, sorted by position. The inventory
// is nil only when there is nothing to decode (a YAML syntax error, an
// empty document, a top level that is not a mapping); otherwise it holds
// whatever decoded, even when the report has errors.
func Parse(file string, data []byte) (*Inventory, diag.Report) {
	return parse(file, data, &Lock{File: LockPath(file)}, false)
}

// ParseForLock is Parse for an inventory about to be locked (kign init):
// downloads without a hash are not reported.
func ParseForLock(file string, data []byte) (*Inventory, diag.Report) {
	return parse(file, data, &Lock{File: LockPath(file)}, true)
}

func parse(file string, data []byte, lock *Lock, locking bool) (*Inventory, diag.Report) {
	var rep diag.Report
	root := parseYAML(file, data, &rep)
	if root == nil {
		rep.Sort()
		return nil, rep
	}
	d := &decoder{
		file: file,
		pos:  Positions{"": {File: file, Line: root.Line, Col: root.Column}},
		rep:  &rep,
		bad:  map[string]bool{},
		// Aliases let a small document stand for a large one; allow a few
		// times what the bytes could spell out without them.
		budget: 4*len(data) + 1000,
	}
	inv := &Inventory{File: file, Positions: d.pos, Lock: lock}
	d.structure(root, reflect.ValueOf(inv).Elem(), "")
	if d.budget >= 0 {
		rep.Merge(validate(inv, d.bad, locking))
	}
	rep.Sort()
	return inv, rep
}

// parseYAML returns the top-level mapping of the only document in data,
// or nil after reporting why there is none.
func parseYAML(file string, data []byte, rep *diag.Report) (root *yaml.Node) {
	defer func() {
		// yaml.v3 has panicked on hostile input before (CVE-2022-28948);
		// report such a panic like a syntax error instead of crashing.
		if r := recover(); r != nil {
			rep.Errorf(diag.Pos{File: file}, "", "YAML parser failed: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			rep.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "", "the document is empty; expected a mapping with cluster: and hosts:")
		} else {
			rep.Add(syntaxError(file, data, err))
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		rep.Add(syntaxError(file, data, err))
	default:
		rep.Errorf(diag.Pos{File: file, Line: next.Line, Col: next.Column}, "", "a second YAML document starts here; the inventory is exactly one document (remove the \"---\" separator)")
	}
	if len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		rep.Errorf(diag.Pos{File: file, Line: max(doc.Line, 1), Col: max(doc.Column, 1)}, "", "the document is empty; expected a mapping with cluster: and hosts:")
		return nil
	}
	n := deref(doc.Content[0])
	if n.Kind != yaml.MappingNode {
		rep.Errorf(diag.Pos{File: file, Line: n.Line, Col: n.Column}, "", "the document must be a mapping with cluster: and hosts:, not %s", describe(n))
		return nil
	}
	return n
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns a yaml.v3 parse error into a positioned diagnostic.
// yaml.v3 gives a line but no column, and no line at all for problems on
// the first line or found while decoding the input's bytes; those are
// located here where possible.
func syntaxError(file string, data []byte, err error) diag.Diagnostic {
	msg := err.Error()
	pos := diag.Pos{File: file}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if strings.Contains(msg, "tab character") {
			// yaml.v3 names the line where the enclosing block began;
			// point at the tab itself.
			if line, col := indentTab(data, pos.Line); line > 0 {
				pos.Line, pos.Col = line, col
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		pos.Line, pos.Col = locate(data, msg)
	}
	return diag.Diagnostic{Severity: diag.Error, Pos: pos, Message: "YAML syntax error: " + msg}
}

// indentTab finds the first tab in the indentation of a line at or after
// line from (1-based).
func indentTab(data []byte, from int) (line, col int) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if i+1 < from {
			continue
		}
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if j := bytes.IndexByte(indent, '\t'); j >= 0 {
			return i + 1, j + 1
		}
	}
	return 0, 0
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate finds where a yaml.v3 error without a line number happened.
func locate(data []byte, msg string) (line, col int) {
	offset := -1
	switch {
	case unknownAnchor.MatchString(msg):
		offset = bytes.Index(data, []byte("*"+unknownAnchor.FindStringSubmatch(msg)[1]))
	case strings.Contains(msg, "UTF-8") || strings.Contains(msg, "control characters") || strings.Contains(msg, "Unicode"):
		offset = badChar(data)
	case strings.HasPrefix(msg, "attempted to go past") || strings.HasPrefix(msg, "expected "):
		return 0, 0
	default:
		// An error from the parser or scanner without a line number: both of
		// yaml.v3's marks were on its line 0, the first line.
		return 1, 0
	}
	if offset < 0 {
		return 0, 0
	}
	line = 1 + bytes.Count(data[:offset], []byte("\n"))
	col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:offset], '\n')+1:offset])
	return line, col
}

// badChar returns the offset of the first byte YAML refuses: invalid UTF-8
// or a character outside YAML 1.2's printable set (§5.1), or -1.
func badChar(data []byte) int {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return -1 // UTF-16; yaml.v3 transcodes it, offsets would not match
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		printable := r == '\t' || r == '\n' || r == '\r' ||
			(r >= 0x20 && r <= 0x7e) || r == 0x85 ||
			(r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd && r != 0xfeff) ||
			(r >= 0x10000 && r <= 0x10ffff)
		if (r == utf8.RuneError && size <= 1) || !printable {
			if r == 0xfeff && i == 0 {
				i += size // a leading byte-order mark is allowed
				continue
			}
			return i
		}
		i += size
	}
	return -1
}
