package gen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"github.com/vincent-petithory/dataurl"
)

// ignConfig is the part of an Ignition config (3.4 or 3.5) the tests read.
type ignConfig struct {
	Ignition struct {
		Version string `json:"version"`
	} `json:"ignition"`
	Passwd struct {
		Users []struct {
			Name              string   `json:"name"`
			SSHAuthorizedKeys []string `json:"sshAuthorizedKeys"`
		} `json:"users"`
	} `json:"passwd"`
	Storage struct {
		Directories []struct {
			Path string `json:"path"`
			Mode *int   `json:"mode"`
		} `json:"directories"`
		Files []struct {
			Path     string `json:"path"`
			Mode     *int   `json:"mode"`
			Contents struct {
				Source       *string `json:"source"`
				Compression  *string `json:"compression"`
				Verification struct {
					Hash *string `json:"hash"`
				} `json:"verification"`
			} `json:"contents"`
		} `json:"files"`
	} `json:"storage"`
	Systemd struct {
		Units []struct {
			Name     string  `json:"name"`
			Enabled  *bool   `json:"enabled"`
			Contents *string `json:"contents"`
			Dropins  []struct {
				Name     string  `json:"name"`
				Contents *string `json:"contents"`
			} `json:"dropins"`
		} `json:"units"`
	} `json:"systemd"`
}

// hostFile is one file of a parsed config: inline data, or a remote source.
type hostFile struct {
	Path   string
	Mode   int
	Data   []byte // inline files
	Source string // remote files
	Hash   string
}

// parsedHost is a config as the tests see it.
type parsedHost struct {
	Raw   ignConfig
	Files map[string]hostFile
	Units map[string]string // name -> contents
	Order []string          // file paths in config order
}

func parseIgnition(t *testing.T, ign []byte) parsedHost {
	t.Helper()
	var c ignConfig
	dec := json.NewDecoder(bytes.NewReader(ign))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode ignition: %v", err)
	}
	ph := parsedHost{Raw: c, Files: map[string]hostFile{}, Units: map[string]string{}}
	for _, f := range c.Storage.Files {
		hf := hostFile{Path: f.Path}
		if f.Mode != nil {
			hf.Mode = *f.Mode
		}
		if f.Contents.Verification.Hash != nil {
			hf.Hash = *f.Contents.Verification.Hash
		}
		if src := f.Contents.Source; src != nil {
			if du, err := dataurl.DecodeString(*src); err == nil {
				data := du.Data
				if f.Contents.Compression != nil && *f.Contents.Compression == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(data))
					if err != nil {
						t.Fatalf("%s: gzip: %v", f.Path, err)
					}
					if data, err = io.ReadAll(zr); err != nil {
						t.Fatalf("%s: gzip: %v", f.Path, err)
					}
				}
				hf.Data = data
			} else {
				hf.Source = *src
			}
		}
		if _, dup := ph.Files[f.Path]; dup {
			t.Errorf("file %s appears twice", f.Path)
		}
		ph.Files[f.Path] = hf
		ph.Order = append(ph.Order, f.Path)
	}
	for _, u := range c.Systemd.Units {
		if u.Contents != nil {
			ph.Units[u.Name] = *u.Contents
		} else {
			ph.Units[u.Name] = ""
		}
	}
	return ph
}
