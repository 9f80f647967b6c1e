package cli

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kign-project/kign/internal/inventory"
)

// A mirror on loopback serves each path's bytes; version bumps what it
// serves, as an upstream that replaced a release file would.
func lockMirror(t *testing.T) (*httptest.Server, *atomic.Int32, *atomic.Int32) {
	t.Helper()
	var version, hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("file " + r.URL.Path + " v" + string(rune('0'+version.Load())) + "\n"))
	}))
	t.Cleanup(srv.Close)
	return srv, &version, &hits
}

// The seed example without allowUnverified, with its downloads on mirror.
func lockInventory(t *testing.T, mirror string) (dir, hosts string) {
	dir, hosts = inventoryCopy(t, "../../examples/seed/hosts.yaml")
	data, _ := os.ReadFile(hosts)
	i := bytes.Index(data, []byte("\nartifacts:"))
	if i < 0 {
		t.Fatal("the seed example has no artifacts section")
	}
	data = append(data[:i+1], []byte("artifacts:\n  mirror: "+mirror+"\n")...)
	if err := os.WriteFile(hosts, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, hosts
}

// kign artifacts lock records the hashes of the downloads kign's catalog has
// none for; gen then needs no allowUnverified and pins those hashes in
// every config; a later lock never changes a recorded hash.
func TestArtifactsLock(t *testing.T) {
	srv, version, hits := lockMirror(t)
	dir, hosts := lockInventory(t, srv.URL)
	lockFile := filepath.Join(dir, "hosts.lock")

	code, _, stderr := kign(t, "validate", "--hosts", hosts)
	if code != ExitFailure || !strings.Contains(stderr, hosts+":41:3: artifacts: flanneld v0.28.4 (") || !strings.Contains(stderr, "run `kign artifacts lock --hosts "+hosts+"`") {
		t.Fatalf("validate without a lock: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := kign(t, "artifacts", "--hosts", hosts, "--unhashed")
	if code != ExitOK || strings.Count(stdout, srv.URL+"/github.com/flannel-io/") != 2 {
		t.Fatalf("--unhashed: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = kign(t, "artifacts", "lock", "--hosts", hosts)
	if code != ExitOK || !strings.Contains(stdout, "[lock] recorded flanneld v0.28.4: sha256 ") || !strings.Contains(stdout, "[lock] wrote "+lockFile+" (2 downloads)") {
		t.Fatalf("lock: exit %d\n%s%s", code, stdout, stderr)
	}
	if hits.Load() != 2 {
		t.Errorf("%d fetches, want 2 (the two unhashed downloads)", hits.Load())
	}
	locked, _ := os.ReadFile(lockFile)
	want := sha512.Sum512([]byte("file /github.com/flannel-io/flannel/releases/download/v0.28.4/flanneld-amd64 v0\n"))
	if !bytes.Contains(locked, []byte(hex.EncodeToString(want[:]))) || !bytes.Contains(locked, []byte("url: https://github.com/flannel-io/flannel/releases/download/v0.28.4/flanneld-amd64")) {
		t.Fatalf("the lock file lacks flanneld's sha512, keyed by its upstream URL:\n%s", locked)
	}

	out := filepath.Join(dir, "out")
	code, stdout, stderr = kign(t, "gen", "--hosts", hosts, "-o", out)
	if code != ExitOK || strings.Contains(stderr, "WITHOUT a hash") {
		t.Fatalf("gen with the lock: exit %d\n%s%s", code, stdout, stderr)
	}
	ign, _ := os.ReadFile(filepath.Join(out, "master0.ign"))
	if !bytes.Contains(ign, []byte(`"hash":"sha512-`+hex.EncodeToString(want[:])+`"`)) {
		t.Error("master0.ign does not pin flanneld's locked sha512")
	}

	// Again: every locked download is fetched and checked, nothing changes.
	code, stdout, _ = kign(t, "artifacts", "lock", "--hosts", hosts)
	if code != ExitOK || !strings.Contains(stdout, "[lock] checked flanneld") || !strings.Contains(stdout, "is up to date") {
		t.Fatalf("second lock: exit %d\n%s", code, stdout)
	}
	// The mirror now serves other bytes: an error naming the URL and both
	// hashes, and the lock file is left as it was.
	version.Store(1)
	code, _, stderr = kign(t, "artifacts", "lock", "--hosts", hosts)
	if code != ExitFailure || !strings.Contains(stderr, "https://github.com/flannel-io/") || !strings.Contains(stderr, "recorded sha256") || !strings.Contains(stderr, "download sha256") {
		t.Fatalf("changed download: exit %d\n%s", code, stderr)
	}
	if after, _ := os.ReadFile(lockFile); !bytes.Equal(after, locked) {
		t.Error("a failed lock changed the lock file")
	}
}

// A lock file edited by hand, cut short or not YAML makes gen fail, naming
// the download or the file, and nothing is written.
func TestGenRefusesBadLock(t *testing.T) {
	srv, _, _ := lockMirror(t)
	for name, edit := range map[string]func([]byte) []byte{
		"hand-edited hash": func(b []byte) []byte {
			i := bytes.Index(b, []byte("sha256: ")) + len("sha256: ")
			if b[i] == 'a' {
				b[i] = 'b'
			} else {
				b[i] = 'a'
			}
			return b
		},
		"truncated":  func(b []byte) []byte { return b[:len(b)/2] },
		"not YAML":   func([]byte) []byte { return []byte("{{{ this is : not [yaml\n") },
		"empty file": func([]byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			dir, hosts := lockInventory(t, srv.URL)
			if code, stdout, stderr := kign(t, "artifacts", "lock", "--hosts", hosts); code != ExitOK {
				t.Fatalf("lock: exit %d\n%s%s", code, stdout, stderr)
			}
			lockFile := inventory.LockPath(hosts)
			data, _ := os.ReadFile(lockFile)
			if err := os.WriteFile(lockFile, edit(data), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := kign(t, "gen", "--hosts", hosts, "-o", filepath.Join(dir, "out"))
			if code != ExitFailure || !strings.Contains(stderr, lockFile) || !strings.Contains(stderr, "nothing written") {
				t.Fatalf("exit %d, want 1 naming %s\n%s%s", code, lockFile, stdout, stderr)
			}
			if name == "hand-edited hash" && !strings.Contains(stderr, "changed by hand") {
				t.Errorf("the error does not say the entry was edited:\n%s", stderr)
			}
			for _, p := range []string{"out", "pki"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}
