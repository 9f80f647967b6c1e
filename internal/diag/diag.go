// Package diag carries positioned diagnostics from every stage of kign.
//
// A Diagnostic names the file, the line and column of the offending YAML
// value, the field path inside the document (hosts[2].ip) and a message, the
// shape butane uses (config/common/errors.go) so an operator can jump straight
// to the line. Stages collect every problem into a Report instead of stopping
// at the first one.
package diag

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a diagnostic stops the run.
type Severity int

const (
	// Error makes the run fail; nothing is written.
	Error Severity = iota
	// Warning is printed but does not change the exit status.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a position in a source file; Line and Col start at 1, zero means unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return p.File
	}
}

// Diagnostic is one problem found in an input.
type Diagnostic struct {
	Severity Severity
	Pos      Pos
	Path     string // field path, e.g. hosts[2].ip; empty for document-level problems
	Message  string
}

// String renders FILE:LINE:COL: [warning: ]PATH: message.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Pos.String())
	b.WriteString(": ")
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Report collects diagnostics.
type Report struct {
	Diagnostics []Diagnostic
}

// Add appends a diagnostic.
func (r *Report) Add(d Diagnostic) { r.Diagnostics = append(r.Diagnostics, d) }

// Errorf adds an error at pos for path.
func (r *Report) Errorf(pos Pos, path, format string, args ...any) {
	r.Add(Diagnostic{Severity: Error, Pos: pos, Path: path, Message: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning at pos for path.
func (r *Report) Warnf(pos Pos, path, format string, args ...any) {
	r.Add(Diagnostic{Severity: Warning, Pos: pos, Path: path, Message: fmt.Sprintf(format, args...)})
}

// Merge appends every diagnostic of o.
func (r *Report) Merge(o Report) { r.Diagnostics = append(r.Diagnostics, o.Diagnostics...) }

// HasErrors reports whether any diagnostic is an error.
func (r Report) HasErrors() bool {
	for _, d := range r.Diagnostics {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (r Report) Errors() []Diagnostic { return r.filter(Error) }

// Warnings returns only the warnings.
func (r Report) Warnings() []Diagnostic { return r.filter(Warning) }

func (r Report) filter(s Severity) []Diagnostic {
	var out []Diagnostic
	for _, d := range r.Diagnostics {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, then path, so output is stable.
func (r *Report) Sort() {
	sort.SliceStable(r.Diagnostics, func(i, j int) bool {
		a, b := r.Diagnostics[i], r.Diagnostics[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Path < b.Path
	})
}

// String renders one diagnostic a line.
func (r Report) String() string {
	var b strings.Builder
	for _, d := range r.Diagnostics {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Err returns the report as an error when it holds errors, else nil.
func (r Report) Err() error {
	if !r.HasErrors() {
		return nil
	}
	return &ReportError{Report: r}
}

// ReportError is an error that carries a whole report.
type ReportError struct{ Report Report }

func (e *ReportError) Error() string {
	errs := e.Report.Errors()
	if len(errs) == 1 {
		return errs[0].String()
	}
	return fmt.Sprintf("%d errors:\n%s", len(errs), strings.TrimRight(Report{Diagnostics: errs}.String(), "\n"))
}
