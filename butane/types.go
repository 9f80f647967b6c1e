// Package butane holds kign's Butane skeleton and turns a host's Butane
// document into Ignition: it merges the skeleton, the generated files and
// the operator's overlays (refusing two sources that write the same path),
// translates in-process with the butane library in strict mode (a warning
// fails), and validates the result with Ignition's own parser.
package butane

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Config is the subset of a Butane document kign generates. Field names
// and shapes are Butane's (https://coreos.github.io/butane/specs/).
type Config struct {
	Variant string   `yaml:"variant"`
	Version string   `yaml:"version"`
	Passwd  *Passwd  `yaml:"passwd,omitempty"`
	Storage *Storage `yaml:"storage,omitempty"`
	Systemd *Systemd `yaml:"systemd,omitempty"`
}

// Passwd holds users.
type Passwd struct {
	Users []User `yaml:"users,omitempty"`
}

// User is a passwd user.
type User struct {
	Name              string   `yaml:"name"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys,omitempty"`
}

// Storage holds files and directories.
type Storage struct {
	Directories []Directory `yaml:"directories,omitempty"`
	Files       []File      `yaml:"files,omitempty"`
}

// Directory is a directory to create.
type Directory struct {
	Path string `yaml:"path"`
	Mode Mode   `yaml:"mode,omitempty"`
}

// File is a file to write, inline or downloaded.
type File struct {
	Path      string   `yaml:"path"`
	Mode      Mode     `yaml:"mode,omitempty"`
	Overwrite *bool    `yaml:"overwrite,omitempty"`
	Contents  Resource `yaml:"contents"`
}

// Resource is a file's contents: inline text or a remote source.
type Resource struct {
	Inline       *string       `yaml:"inline,omitempty"`
	Source       string        `yaml:"source,omitempty"`
	Verification *Verification `yaml:"verification,omitempty"`
}

// Verification pins a remote source: "sha256-<hex>" or "sha512-<hex>".
type Verification struct {
	Hash string `yaml:"hash"`
}

// Systemd holds units.
type Systemd struct {
	Units []Unit `yaml:"units,omitempty"`
}

// Unit is a systemd unit, with optional drop-ins.
type Unit struct {
	Name     string   `yaml:"name"`
	Enabled  *bool    `yaml:"enabled,omitempty"`
	Contents string   `yaml:"contents,omitempty"`
	Dropins  []Dropin `yaml:"dropins,omitempty"`
}

// Dropin is a systemd drop-in.
type Dropin struct {
	Name     string `yaml:"name"`
	Contents string `yaml:"contents"`
}

// Mode is a file mode, written in octal (0600) so a reader of the .bu sees
// the permission they would type.
type Mode int

// MarshalYAML writes the mode as an octal integer.
func (m Mode) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprintf("0%o", int(m))}, nil
}

// IsZero lets omitempty drop an unset mode.
func (m Mode) IsZero() bool { return m == 0 }

// Inline returns a pointer to s, for Resource.Inline.
func Inline(s string) *string { return &s }

// True is a pointer to true, for Unit.Enabled and File.Overwrite.
func True() *bool { t := true; return &t }
