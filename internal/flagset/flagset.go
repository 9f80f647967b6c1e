// Package flagset knows the command-line flags and feature gates of the
// components kign runs, per version, as the real binaries' flag parsers
// list them: data/<binary>-<version>.txt is written by
// hack/gen-flagsets.sh from each binary's --help, and hack/e2e-run.sh
// fails when a table differs from the binary it builds. The inventory's
// components.*.extraArgs and featureGates are checked against it.
package flagset

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed data/*.txt
var data embed.FS

// Kind says what a binary does with a flag.
type Kind int

const (
	// Unknown: the binary has no such flag.
	Unknown Kind = iota
	// Flag is an ordinary flag.
	Flag
	// Config is a kubelet or kube-proxy flag whose value belongs in the
	// component's configuration file (the kubelet deprecates it as a
	// flag; kube-proxy ignores it when --config is given, as kign does).
	Config
)

// Set is one binary's flags and feature gates.
type Set struct {
	Binary, Version string
	flags           map[string]Kind
	gates           []string // sorted
}

// Lookup returns the set of binary (kube-apiserver, kubelet, etcd, ...) at
// version: "v1.36" for Kubernetes binaries, "v3.6" for etcd.
func Lookup(binary, version string) (Set, error) {
	raw, err := data.ReadFile("data/" + binary + "-" + version + ".txt")
	if err != nil {
		return Set{}, fmt.Errorf("kign has no flag table for %s %s", binary, version)
	}
	s := Set{Binary: binary, Version: version, flags: map[string]Kind{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		kind, name, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "flag":
			s.flags[name] = Flag
		case "config":
			s.flags[name] = Config
		case "gate":
			s.gates = append(s.gates, name)
		}
	}
	slices.Sort(s.gates)
	return s, nil
}

// Kind returns what the binary does with flag name (without "--").
func (s Set) Kind(name string) Kind { return s.flags[name] }

// Flags lists the binary's flag names, sorted.
func (s Set) Flags() []string {
	out := make([]string, 0, len(s.flags))
	for f := range s.flags {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// HasGate reports whether the binary knows feature gate name.
func (s Set) HasGate(name string) bool {
	_, ok := slices.BinarySearch(s.gates, name)
	return ok
}

// Gates lists the feature gates the binary knows, sorted.
func (s Set) Gates() []string { return slices.Clone(s.gates) }
