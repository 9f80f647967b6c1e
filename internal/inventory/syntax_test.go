package inventory

import (
	"strings"
	"testing"
)

// Rule tests for the lexical checks, beyond the positioned cases.
func TestSyntaxRules(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{strings.Repeat("aB", 32), true},
		{strings.Repeat("0", 63), false},
		{strings.Repeat("\x10", 64), false}, // would read as '0' if case were folded by bit
		{strings.Repeat("g", 64), false},
	} {
		if got := isHex(c.name, 64); got != c.ok {
			t.Errorf("isHex(%q) = %v", c.name, got)
		}
	}
	for s, want := range map[string]bool{
		"registry.k8s.io/pause:3.10":       true,
		"localhost:5000/k8s/etcd:3.6.14-0": true,
		"pause":                            true,
		"registry.example/pause@sha256:" + strings.Repeat("a", 64): true,
		"registry.example/pause:":                                  false,
		"docker://registry.example/pause:3.10":                     false,
		"registry.example//pause":                                  false,
	} {
		if got := imageProblem(s) == ""; got != want {
			t.Errorf("imageProblem(%q) = %q", s, imageProblem(s))
		}
	}
	for s, want := range map[string]bool{
		"cluster.local": true, "a": true, "a-b.c": true,
		"": false, ".": false, "a.": false, "-a": false, "a_b": false, strings.Repeat("a", 64): false,
		strings.Repeat("a.", 126) + "a": true, strings.Repeat("a.", 127) + "a": false,
	} {
		if got := isDNS1123Subdomain(s); got != want {
			t.Errorf("isDNS1123Subdomain(%q) = %v", s, got)
		}
	}
	for word, want := range map[string]string{
		"serviceCidr": "serviceCIDR", "podcidr": "podCIDR", "hots": "hosts", "x": "", "colour": "",
	} {
		if got := closest(word, []string{"serviceCIDR", "podCIDR", "hosts", "cluster"}); got != want {
			t.Errorf("closest(%q) = %q, want %q", word, got, want)
		}
	}
}
