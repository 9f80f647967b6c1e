package butane

import (
	"bytes"
	"testing"

	baseutil "github.com/coreos/butane/base/util"
)

// TestTranslateDocLeavesTreeAlone: translating a merged document takes the
// typed entries out of a copy, not out of the tree that <host>.bu is
// printed from, and gives Butane's own translation of that text.
func TestTranslateDocLeavesTreeAlone(t *testing.T) {
	gen := &Config{
		Variant: "fcos", Version: "1.6.0",
		Storage: &Storage{
			Directories: []Directory{{Path: "/var/lib/etcd", Mode: 0o700}},
			Files: []File{
				{Path: "/etc/kubernetes/pki/ca.crt", Mode: 0o644, Contents: Resource{Inline: Inline("-----BEGIN CERTIFICATE-----\nMII=\n")}},
				{Path: "/opt/bin/kubelet", Mode: 0o755, Contents: Resource{Source: "https://dl.k8s.io/kubelet", Verification: &Verification{Hash: "sha256-" + string(bytes.Repeat([]byte("0"), 64))}}},
			},
		},
	}
	overlay := []byte("variant: fcos\nversion: 1.6.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n")
	doc, err := MergeDoc([]Source{{Name: "base", Data: []byte(base)}, {Name: "kign", Value: gen}, {Name: "overlay", Data: overlay}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := Encode(doc.Root)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := TranslateDoc("doc", doc)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Encode(doc.Root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("TranslateDoc changed the merged tree:\n%s\n---\n%s", before, after)
	}
	slow, err := Translate("doc", before)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast, slow) {
		t.Errorf("TranslateDoc and Translate disagree:\n%s\n%s", fast, slow)
	}
	for _, want := range []string{"/etc/hostname", "/etc/kubernetes/pki/ca.crt", "/opt/bin/kubelet", "/etc/motd", "/var/lib/etcd"} {
		if !bytes.Contains(fast, []byte(want)) {
			t.Errorf("%s missing from the translation", want)
		}
	}
}

// TestDataURLMatchesButane: dataURL gives what Butane's own encoder gives
// with compression off, for text, binary, every byte value, the empty
// string, and lengths on both sides of the base64/percent-encoding choice.
func TestDataURLMatchesButane(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	inputs := []string{"", "a", "master0", "line\n", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU+/=\n-----END CERTIFICATE-----\n", string(all), "%%%", "é✓", "-_.!~*'()"}
	rnd := uint32(1)
	for n := 0; n < 300; n++ {
		b := make([]byte, n%40)
		for i := range b {
			rnd = rnd*1664525 + 1013904223
			b[i] = byte(rnd >> 24)
			if n%3 == 0 {
				b[i] = "ab+/\n="[int(rnd>>8)%6]
			}
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		wantURI, wantComp, err := baseutil.MakeDataURL([]byte(in), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		uri, comp, err := dataURL(in)
		if err != nil {
			t.Fatal(err)
		}
		if *uri != wantURI || (comp == nil) != (wantComp == nil) || (comp != nil && *comp != *wantComp) {
			t.Errorf("dataURL(%q) = %q, %v; Butane: %q, %v", in, *uri, comp, wantURI, wantComp)
		}
	}
}
