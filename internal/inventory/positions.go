package inventory

import "github.com/kign-project/kign/internal/diag"

// Positions maps field paths to source positions.
type Positions map[string]diag.Pos

// Of returns the position of path, falling back to the nearest enclosing
// field that has one (hosts[1].ip -> hosts[1] -> hosts), then to the
// document's top-level mapping (stored under the empty path), then to the
// file.
func (p Positions) Of(file, path string) diag.Pos {
	for path != "" {
		if pos, ok := p[path]; ok {
			return pos
		}
		path = parent(path)
	}
	if pos, ok := p[""]; ok {
		return pos
	}
	return diag.Pos{File: file}
}

// parent strips the last element of a field path.
func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch path[i] {
		case '.':
			return path[:i]
		case '[':
			return path[:i]
		}
	}
	return ""
}
