package butane

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	baseutil "github.com/coreos/butane/base/util"
	"github.com/kign-project/kign/internal/osvariant"
	"gopkg.in/yaml.v3"
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
	doc, before, fast := fastEqualsSlow(t, []Source{{Name: "base", Data: []byte(base)}, {Name: "kign", Value: gen}, {Name: "overlay", Data: overlay}})
	after, err := Encode(doc.Root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("TranslateDoc changed the merged tree:\n%s\n---\n%s", before, after)
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

// TestTranslateDocFallsBack: when Butane's translation of the rest adds
// entries of its own (fcos grub.users writes /boot/grub2/user.cfg), the
// typed entries' positions no longer hold and the whole document goes
// through Butane; the result is still Butane's, byte for byte.
func TestTranslateDocFallsBack(t *testing.T) {
	gen := &Config{Variant: "fcos", Version: "1.6.0", Storage: &Storage{
		Directories: []Directory{{Path: "/var/lib/etcd", Mode: 0o700}},
		Files:       []File{{Path: "/etc/kubernetes/pki/ca.crt", Mode: 0o644, Contents: Resource{Inline: Inline("pem\n")}}},
	}}
	grub := []byte("variant: fcos\nversion: 1.6.0\ngrub:\n  users:\n    - name: root\n      password_hash: grub.pbkdf2.sha512.10000.AAAA\n")
	fastEqualsSlow(t, []Source{{Name: "base", Data: []byte(base)}, {Name: "kign", Value: gen}, {Name: "grub", Data: grub}})
}

// TestTranslateDocAwkwardText: contents that yaml.v3 would print as blocks
// that do not read back (only line breaks, a leading line break, a leading
// tab) still give Butane's translation of the printed document.
func TestTranslateDocAwkwardText(t *testing.T) {
	var files []File
	for i, text := range []string{"\n", "\n\n", "\nabc\n", "\tx\n", "a\tb\n", " lead\n", "trail \n", "a\r\nb\n", "", "plain"} {
		files = append(files, File{Path: fmt.Sprintf("/etc/t%d", i), Mode: 0o600, Contents: Resource{Inline: Inline(text)}})
	}
	gen := &Config{Variant: "fcos", Version: "1.6.0", Storage: &Storage{Files: files}}
	fastEqualsSlow(t, []Source{{Name: "base", Data: []byte(base)}, {Name: "kign", Value: gen}})
}

// TestStrRoundTrips: every string str writes reads back the same, over
// many random strings of the characters YAML treats specially.
func TestStrRoundTrips(t *testing.T) {
	alphabet := []string{"a", " ", "\t", "\n", "\n", "#", ":", "-", "é", "\r", "'", "\"", "|", ">"}
	rnd := uint32(7)
	next := func(n int) int { rnd = rnd*1664525 + 1013904223; return int(rnd>>8) % n }
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := next(8); j >= 0; j-- {
			b.WriteString(alphabet[next(len(alphabet))])
		}
		s := b.String()
		m := mapping()
		m.add("k", str(s))
		out, err := Encode(m.Node)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var back map[string]string
		if err := yaml.Unmarshal(out, &back); err != nil || back["k"] != s {
			t.Fatalf("%q printed as %q reads back as %q (%v)", s, out, back["k"], err)
		}
	}
}

// TestTypedEntriesFollowButaneRules: what Butane refuses in a typed entry,
// kign refuses too: two sources for one file, a mode that looks decimal.
func TestTypedEntriesFollowButaneRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  Config
		want string
	}{
		{"inline and source", Config{Variant: "fcos", Version: "1.6.0", Storage: &Storage{Files: []File{
			{Path: "/etc/x", Contents: Resource{Inline: Inline("x"), Source: "https://example.invalid/x"}}}}}, "/etc/x"},
		{"decimal file mode", Config{Variant: "fcos", Version: "1.6.0", Storage: &Storage{Files: []File{
			{Path: "/etc/y", Mode: 644, Contents: Resource{Inline: Inline("y")}}}}}, "/etc/y: mode"},
		{"decimal directory mode", Config{Variant: "flatcar", Version: "1.1.0", Storage: &Storage{Directories: []Directory{
			{Path: "/var/z", Mode: 755}}}}, "/var/z: mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := MergeDoc([]Source{{Name: "kign", Value: &tc.gen}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := TranslateDoc("doc", doc); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %q", err, tc.want)
			}
			text, err := Encode(doc.Root)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Translate("doc", text); err == nil {
				t.Errorf("Butane accepts what kign refused:\n%s", text)
			}
		})
	}
}

// fastEqualsSlow merges sources and checks TranslateDoc against Butane's
// TranslateBytes of the printed document; it returns the merged document,
// its text as printed before translating, and the translation.
func fastEqualsSlow(t *testing.T, sources []Source) (doc *Doc, text, fast []byte) {
	t.Helper()
	doc, err := MergeDoc(sources)
	if err != nil {
		t.Fatal(err)
	}
	if text, err = Encode(doc.Root); err != nil {
		t.Fatal(err)
	}
	if fast, err = TranslateDoc("doc", doc); err != nil {
		t.Fatal(err)
	}
	slow, err := Translate("doc", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !bytes.Equal(fast, slow) {
		t.Errorf("TranslateDoc and Translate disagree:\n%s\n%s", fast, slow)
	}
	return doc, text, fast
}

// Every OS row names a Butane spec that TranslateDoc can translate.
func TestEveryOSHasATranslator(t *testing.T) {
	for _, o := range osvariant.Table {
		if _, ok := translators[o.ButaneVariant+"/"+o.ButaneVersion]; !ok {
			t.Errorf("%s: no translator for %s %s", o.Name, o.ButaneVariant, o.ButaneVersion)
		}
	}
}
