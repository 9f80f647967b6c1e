package pki

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestPermissions checks the bundle directory kign writes: every folder
// 0700, every file 0600 (whatever the umask), no temporary files left, and
// the layout the design fixed.
func TestPermissions(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "deep", "pki")
	b := New()
	if _, err := b.Complete(seedPlan(ECDSA), Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	written, err := b.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate and a key per row and host, the encryption keys and
	// the token secret.
	if len(written) != 2*rows(3)+2 {
		t.Errorf("wrote %d files, want %d", len(written), 2*rows(3)+2)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
		if strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("%s: temporary file left", path)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key",
		"sa.key", "sa.pub", "apiserver-etcd-client.crt", "etcd/healthcheck-client.key", "etcd/flannel-client.crt",
		"hosts/master0/etcd-server.crt", "hosts/master2/etcd-peer.key", "hosts/master1/apiserver.crt", "hosts/master1/kubelet-serving.key", "delivery/serving.crt", "delivery/token.secret", "encryption/keys.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("layout: %v", err)
		}
	}
	if len(files) != 2*rows(3)+2 {
		t.Errorf("%d files, want %d", len(files), 2*rows(3)+2)
	}
}

// TestLoad checks what Load accepts and refuses.
func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		change  func(dir string) error
		wantErr string
	}{
		{"a bundle kign wrote", func(string) error { return nil }, ""},
		{"a key others can read", func(dir string) error { return os.Chmod(filepath.Join(dir, "hosts/master1/etcd-peer.key"), 0o644) },
			"etcd-peer.key: private key with mode 0644: group or other may read it; run chmod 600"},
		{"a folder others can enter", func(dir string) error { return os.Chmod(filepath.Join(dir, "etcd"), 0o755) },
			"etcd: directory mode 0755 lets group or other in; run chmod 700"},
		{"a certificate others can read", func(dir string) error { return os.Chmod(filepath.Join(dir, "ca.crt"), 0o644) }, ""},
		{"an unreadable certificate", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "admin.crt"), []byte("garbage"), 0o600)
		}, ""},
		{"not a directory", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.WriteFile(dir, nil, 0o600)
		}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := coldDir(t, ECDSA)
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("a missing directory is an empty bundle", func(t *testing.T) {
		b, err := Load(filepath.Join(t.TempDir(), "nope"))
		if err != nil || len(b.Check(fixedNow, 0)) != 0 {
			t.Errorf("%v", err)
		}
	})
	t.Run("an unreadable certificate is re-issued", func(t *testing.T) {
		dir, _ := coldDir(t, ECDSA)
		writeFile(t, filepath.Join(dir, "admin.crt"), []byte("garbage"))
		events, written := rerun(t, dir, seedPlan(ECDSA), Options{})
		if got := eventsWith(events, ActionReissued); len(got) != 1 || got[0] != Admin || len(written) != 2 {
			t.Errorf("re-issued %v, wrote %v", got, written)
		}
	})
	t.Run("a missing sa.pub is derived from sa.key", func(t *testing.T) {
		dir, _ := coldDir(t, ECDSA)
		pub, _ := os.ReadFile(filepath.Join(dir, "sa.pub"))
		os.Remove(filepath.Join(dir, "sa.pub"))
		events, written := rerun(t, dir, seedPlan(ECDSA), Options{})
		again, _ := os.ReadFile(filepath.Join(dir, "sa.pub"))
		if events[3].String() != "[pki] using existing sa (derived the missing sa.pub from sa.key)" || len(written) != 1 || string(again) != string(pub) {
			t.Errorf("%v, wrote %v", events[3], written)
		}
	})
}
