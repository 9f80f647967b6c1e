package inventory

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kign-project/kign/internal/diag"
)

// Lock is the lock file of an inventory: the sha256 and sha512 of every
// download whose hash neither kign's catalog nor the inventory gives,
// recorded once by `kign artifacts lock` (as go.sum records modules) and
// then trusted by every `kign gen`, which puts the hashes into the configs
// so that Ignition verifies each download on the host.
type Lock struct {
	// File is where the lock was read from, or will be written.
	File    string
	Entries []LockEntry // sorted by URL
}

// LockEntry is one locked download, keyed by the URL kign's catalog (or
// artifacts.overrides.NAME.url) names, before artifacts.mirror: a mirror
// serves the same bytes.
type LockEntry struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	URL     string `yaml:"url"`
	SHA256  string `yaml:"sha256"`
	SHA512  string `yaml:"sha512"`
	// Check is a short digest of URL and both hashes: a hash edited by hand
	// no longer matches it, and kign refuses the lock file, naming the
	// download, rather than put a wrong hash into every config.
	Check string `yaml:"check"`
}

type lockDoc struct {
	Files []LockEntry `yaml:"files"`
}

// LockPath is the lock file of the inventory at path: hosts.yaml -> hosts.lock.
func LockPath(inventory string) string {
	return strings.TrimSuffix(inventory, filepath.Ext(inventory)) + ".lock"
}

// EntryCheck is LockEntry.Check for url and its hashes.
func EntryCheck(url, sha256sum, sha512sum string) string {
	s := sha256.Sum256([]byte("kign-lock\x00" + url + "\x00" + sha256sum + "\x00" + sha512sum))
	return hex.EncodeToString(s[:8])
}

// Lookup returns the entry of url.
func (l *Lock) Lookup(url string) (LockEntry, bool) {
	if l == nil {
		return LockEntry{}, false
	}
	i := sort.Search(len(l.Entries), func(i int) bool { return l.Entries[i].URL >= url })
	if i < len(l.Entries) && l.Entries[i].URL == url {
		return l.Entries[i], true
	}
	return LockEntry{}, false
}

// Add records e (with its Check) and keeps the entries sorted. An entry of
// the same URL with other hashes is an error: a lock never changes a
// recorded hash.
func (l *Lock) Add(e LockEntry) error {
	if old, ok := l.Lookup(e.URL); ok {
		if old.SHA256 != e.SHA256 || old.SHA512 != e.SHA512 {
			return fmt.Errorf("%s: the download differs from what %s recorded:\n  recorded sha256 %s\n  download sha256 %s\n"+
				"refusing to change a recorded hash: find out why the file changed; if the new file is right, delete its entry from %s and lock again",
				e.URL, l.File, old.SHA256, e.SHA256, l.File)
		}
		return nil
	}
	e.Check = EntryCheck(e.URL, e.SHA256, e.SHA512)
	l.Entries = append(l.Entries, e)
	sort.Slice(l.Entries, func(i, j int) bool { return l.Entries[i].URL < l.Entries[j].URL })
	return nil
}

// Marshal renders the lock file, deterministically.
func (l *Lock) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# kign lock file: the sha256 and sha512 of every download whose hash kign's\n" +
		"# catalog and the inventory do not give, recorded by `kign artifacts lock`.\n" +
		"# Commit it beside the inventory. Do not edit: lock again instead.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(lockDoc{Files: l.Entries}); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// ReadLock reads the lock file of the inventory at path; a missing file is
// an empty lock. Every problem is reported against the lock file.
func ReadLock(inventory string) (*Lock, diag.Report) {
	path := LockPath(inventory)
	l := &Lock{File: path}
	var rep diag.Report
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, rep
	}
	if err != nil {
		rep.Errorf(diag.Pos{File: path}, "", "cannot read the lock file: %v", err)
		return l, rep
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		rep.Errorf(diag.Pos{File: path}, "", "not a kign lock file (%v): run kign artifacts lock again", err)
		return l, rep
	}
	var doc lockDoc
	if len(root.Content) == 0 {
		rep.Errorf(diag.Pos{File: path}, "", "empty lock file: run kign artifacts lock again, or delete it")
		return l, rep
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		rep.Errorf(diag.Pos{File: path}, "", "not a kign lock file: %v (run kign artifacts lock again)", err)
		return l, rep
	}
	// Positions of each entry, from the node tree.
	var items []*yaml.Node
	if top := root.Content[0]; top.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "files" && top.Content[i+1].Kind == yaml.SequenceNode {
				items = top.Content[i+1].Content
			}
		}
	}
	seen := map[string]bool{}
	for i, e := range doc.Files {
		pos := diag.Pos{File: path}
		if i < len(items) {
			pos.Line, pos.Col = items[i].Line, items[i].Column
		}
		at := fmt.Sprintf("files[%d]", i)
		switch {
		case e.URL == "" || !isHex(e.SHA256, 64) || !isHex(e.SHA512, 128):
			rep.Errorf(pos, at, "%s: needs url, a sha256 (64 hex digits) and a sha512 (128): run kign artifacts lock again", clip(e.Name))
			continue
		case seen[e.URL]:
			rep.Errorf(pos, at, "%s is locked twice", e.URL)
			continue
		case e.Check != EntryCheck(e.URL, e.SHA256, e.SHA512):
			rep.Errorf(pos, at, "%s %s (%s): its hashes were changed by hand (they no longer match its check): "+
				"delete the entry and run kign artifacts lock to download the file and record its hashes", e.Name, e.Version, e.URL)
			continue
		}
		seen[e.URL] = true
		l.Entries = append(l.Entries, e)
	}
	sort.Slice(l.Entries, func(i, j int) bool { return l.Entries[i].URL < l.Entries[j].URL })
	return l, rep
}
