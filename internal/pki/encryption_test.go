package pki

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The encryption keys are made once (0600 in a 0700 folder), read back
// unchanged, never replaced, and a hand-edited file is read strictly.
func TestEncryptionKeys(t *testing.T) {
	dir, _ := coldDir(t, ECDSA)
	path := filepath.Join(dir, EncryptionKeysFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("keys folder: %v %v", st, err)
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := b.EncryptionKeys()
	if len(keys) != 1 || keys[0].Name != "key1" {
		t.Fatalf("keys %v", keys)
	}
	events, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(events, Event{Action: ActionUsing, Spec: EncryptionKeysName}) || !slices.Equal(b.EncryptionKeys(), keys) {
		t.Errorf("a re-run changed the keys: %v", b.EncryptionKeys())
	}
	if written, err := b.Save(dir); err != nil || len(written) != 0 {
		t.Errorf("re-run wrote %v, %v", written, err)
	}

	// An operator's rotation: a second key, first in the list.
	rotated := "keys:\n- name: key2\n  secret: " + strings.Repeat("QUFB", 10) + "QUE=\n- name: key1\n  secret: " + keys[0].Secret + "\n"
	if err := os.WriteFile(path, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.EncryptionKeys(); len(got) != 2 || got[0].Name != "key2" || got[1] != keys[0] {
		t.Errorf("rotated keys read as %v", got)
	}
	if _, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if written, err := b.Save(dir); err != nil || len(written) != 0 {
		t.Errorf("kign rewrote the operator's keys: %v, %v", written, err)
	}

	for _, bad := range []struct{ data, want string }{
		{"keys: []\n", "lists no key"},
		{"keys:\n- name: a\n  secret: c2hvcnQ=\n", "base64 of 32 bytes"},
		{"keys:\n- name: Key_1\n  secret: " + keys[0].Secret + "\n", "lower-case"},
		{"keys:\n- name: a\n  secret: " + keys[0].Secret + "\n- name: a\n  secret: " + keys[0].Secret + "\n", "listed twice"},
		{"keys:\n- name: a\n  secret: " + keys[0].Secret + "\n  provider: aescbc\n", "unknown field"},
		{"keys: [", "yaml"},
	} {
		if err := os.WriteFile(path, []byte(bad.data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v, want one naming %s and %q", bad.data, err, path, bad.want)
		}
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a group-readable keys file: %v", err)
	}
}
