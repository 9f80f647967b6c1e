package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// tools are the real components, as hack/e2e-tools.sh reports them.
type tools struct {
	Ignition, EtcdDir, EtcdVersion, K8sDir, K8sBuilt, FlannelDir, NspawnDir, CNIDir, UsrExtra, FlannelCNI, Keepalived string
	// The node software of the OS image and the registry and CoreDNS.
	ContainerdDir, Runc, Registry, CoreDNS string
}

// getTools runs hack/e2e-tools.sh (cached builds; minutes on a cold cache).
func getTools(repo, k8sVersion, etcdVersion, flannelVersion, corednsVersion string, log io.Writer) (*tools, error) {
	cmd := exec.Command(filepath.Join(repo, "hack/e2e-tools.sh"), k8sVersion, etcdVersion)
	cmd.Env = append(os.Environ(), "E2E_FLANNEL_VERSION="+flannelVersion, "E2E_COREDNS_VERSION="+corednsVersion)
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("hack/e2e-tools.sh: %w", err)
	}
	t := &tools{}
	fields := map[string]*string{
		"IGNITION": &t.Ignition, "ETCD_DIR": &t.EtcdDir, "ETCD_VERSION": &t.EtcdVersion,
		"K8S_DIR": &t.K8sDir, "K8S_BUILT": &t.K8sBuilt, "FLANNEL_DIR": &t.FlannelDir,
		"NSPAWN_DIR": &t.NspawnDir, "CNI_DIR": &t.CNIDir, "USR_EXTRA": &t.UsrExtra, "FLANNEL_CNI": &t.FlannelCNI, "KEEPALIVED": &t.Keepalived,
		"CONTAINERD_DIR": &t.ContainerdDir, "RUNC": &t.Runc, "REGISTRY": &t.Registry, "COREDNS": &t.CoreDNS,
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if p := fields[k]; ok && p != nil {
			*p = v
		}
	}
	for k, p := range fields {
		if *p == "" {
			return nil, fmt.Errorf("hack/e2e-tools.sh did not report %s", k)
		}
	}
	return t, nil
}

// mirrorFiles builds the file the mirror serves for each catalog artifact
// from the locally built or Debian-packaged components, in dir, and returns
// name → path. The layouts are those of the upstream release files that
// kign's units unpack.
func mirrorFiles(t *tools, arts []artifact, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range arts {
		switch a.name {
		case "kubelet", "kubectl":
			out[a.name] = filepath.Join(t.K8sDir, a.name)
		case "flanneld":
			out[a.name] = filepath.Join(t.FlannelDir, "flanneld")
		case "flannel-cni-plugin":
			out[a.name] = t.FlannelCNI
		case "cni-plugins":
			// cni-plugins-linux-ARCH-vX.tgz: the plugins at the top level.
			entries, err := os.ReadDir(t.CNIDir)
			if err != nil {
				return nil, err
			}
			var files []tarEntry
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				files = append(files, tarEntry{name: "./" + e.Name(), src: filepath.Join(t.CNIDir, e.Name())})
			}
			p := filepath.Join(dir, "cni-plugins.tgz")
			if err := writeTarGz(p, files); err != nil {
				return nil, err
			}
			out[a.name] = p
		case "etcd":
			// etcd-vX-linux-ARCH.tar.gz: one folder named after the file.
			base := strings.TrimSuffix(filepath.Base(a.url), ".tar.gz")
			var files []tarEntry
			for _, b := range []string{"etcd", "etcdctl", "etcdutl"} {
				files = append(files, tarEntry{name: base + "/" + b, src: filepath.Join(t.EtcdDir, b)})
			}
			p := filepath.Join(dir, "etcd.tar.gz")
			if err := writeTarGz(p, files); err != nil {
				return nil, err
			}
			out[a.name] = p
		default:
			return nil, fmt.Errorf("artifact %q: the test does not know what to serve for it (update e2e/mirror_test.go)", a.name)
		}
		if _, err := os.Stat(out[a.name]); err != nil {
			return nil, fmt.Errorf("artifact %s: %w", a.name, err)
		}
	}
	return out, nil
}

type tarEntry struct{ name, src string }

func writeTarGz(path string, entries []tarEntry) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	dirs := map[string]bool{}
	for _, e := range entries {
		if d := filepath.Dir(e.name); d != "." && !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}); err != nil {
				return err
			}
		}
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mirror is the air-gapped site's HTTP mirror, served from the hub
// namespace. It counts the requests per path.
type mirror struct {
	srv   *http.Server
	files map[string]string // URL path → local file
	mu    sync.Mutex
	hits  map[string]int
	log   []string
}

func startMirror(ns, addr string, files map[string]string) (*mirror, error) {
	l, err := listenIn(nsPath(ns), addr)
	if err != nil {
		return nil, err
	}
	m := &mirror{files: files, hits: map[string]int{}}
	m.srv = &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	go m.srv.Serve(l)
	return m, nil
}

func (m *mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.log = append(m.log, fmt.Sprintf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path))
	src, ok := m.files[r.URL.Path]
	m.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	m.mu.Lock()
	m.hits[r.URL.Path]++
	m.mu.Unlock()
	http.ServeFile(w, r, src)
}

// add serves more files (a later generation's downloads).
func (m *mirror) add(files map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p, f := range files {
		m.files[p] = f
	}
}

// fetchedBy returns, per served path, how many distinct client addresses
// fetched it.
func (m *mirror) fetchedBy() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	clients := map[string]map[string]bool{}
	for _, l := range m.log {
		f := strings.Fields(l)
		host, _, _ := net.SplitHostPort(f[0])
		if clients[f[2]] == nil {
			clients[f[2]] = map[string]bool{}
		}
		clients[f[2]][host] = true
	}
	out := map[string]int{}
	for p, c := range clients {
		out[p] = len(c)
	}
	return out
}

func (m *mirror) close() {
	if m != nil && m.srv != nil {
		m.srv.Close()
	}
}

// servePaths maps each artifact's mirrored URL path to its local file.
func servePaths(arts []artifact, local map[string]string) (map[string]string, []string, error) {
	paths := map[string]string{}
	var list []string
	for _, a := range arts {
		u, err := url.Parse(a.url)
		if err != nil {
			return nil, nil, err
		}
		paths[u.Path] = local[a.name]
		list = append(list, u.Path)
	}
	sort.Strings(list)
	return paths, list, nil
}

// checkFlagTables regenerates, from the binaries built here, the flag
// tables kign checks extraArgs against and compares them with the
// committed ones: a table kign ships must be its binary's real flag set.
func checkFlagTables(repo string, t *tools, work string) error {
	minor := func(v string) string {
		parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
		return "v" + parts[0] + "." + parts[1]
	}
	dir := filepath.Join(work, "flagsets")
	gen := filepath.Join(repo, "hack/gen-flagsets.sh")
	for _, args := range [][]string{{dir, t.K8sDir, minor(t.K8sBuilt)}, {dir, t.EtcdDir, minor(t.EtcdVersion), "etcd"}} {
		if out, err := exec.Command(gen, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("hack/gen-flagsets.sh: %v: %s", err, out)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		got, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		want, err := os.ReadFile(filepath.Join(repo, "internal/flagset/data", e.Name()))
		if err != nil {
			return fmt.Errorf("kign has no flag table %s for a binary it runs: run hack/gen-flagsets.sh (%v)", e.Name(), err)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("internal/flagset/data/%s differs from the built binary's --help: regenerate it with hack/gen-flagsets.sh", e.Name())
		}
	}
	return nil
}
