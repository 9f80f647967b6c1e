// Package output is the only stage of `kign gen` that writes to the output
// folder. Every file is written atomically (temp file in the same folder,
// fsync, rename), key-bearing files 0600 in 0700 folders, and nothing is
// written until every file of the run has been rendered.
package output

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one output file, its Path relative to the output folder.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// Set is an ordered collection of output files.
type Set []File

// Check refuses paths that escape the output folder and duplicate paths.
func (s Set) Check() error {
	seen := map[string]bool{}
	for _, f := range s {
		clean := filepath.Clean(f.Path)
		if filepath.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("output path %q is outside the output folder", f.Path)
		}
		if seen[clean] {
			return fmt.Errorf("output path %q written twice", f.Path)
		}
		seen[clean] = true
	}
	return nil
}

// Write writes every file of s below dir (created 0700), atomically, and
// returns the paths written in a stable order. A file whose content is
// already identical is left untouched (its mtime kept).
func Write(dir string, s Set) ([]string, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	files := append(Set(nil), s...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range files {
		path := filepath.Join(dir, filepath.Clean(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return written, err
		}
		changed, err := WriteFileAtomic(path, f.Data, f.Mode)
		if err != nil {
			return written, err
		}
		if changed {
			written = append(written, path)
		}
	}
	return written, nil
}

// WriteFileAtomic writes data to path through a temp file in the same
// folder and a rename, with mode perm. It reports false, and writes nothing,
// when path already holds exactly data with mode perm.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm() == perm {
			return false, nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	name := tmp.Name()
	cleanup := func(e error) (bool, error) {
		tmp.Close()
		os.Remove(name)
		return false, e
	}
	if err := tmp.Chmod(perm); err != nil {
		return cleanup(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(err)
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return false, err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return false, err
	}
	return true, nil
}
