package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"
)

// The air-gapped path for images: a real OCI registry (distribution,
// built from the module proxy) serves HTTPS in the hub namespace with a
// certificate of the test's own registry CA; the inventory copy points
// artifacts.imageRegistry at it and gives that CA as
// artifacts.imageRegistryCA, so containerd pulls every image through the
// certs.d settings kign writes. Each image is assembled here from
// binaries built or unpacked by hack/e2e-tools.sh (and the shared
// libraries they load), under the reference `kign artifacts --images`
// lists; a missing or misnamed image makes a pull fail.

const registryPort = 5000

// registry is the running registry.
type registry struct {
	addr   string // HOST:PORT, as the inventory copy names it
	caPEM  []byte
	pool   *x509.CertPool
	cmd    *exec.Cmd
	exited chan struct{}
	hubNS  string
	log    *os.File
}

// startRegistry makes the registry CA and serving certificate in dir (the
// key 0600) and starts distribution's registry inside hub's namespace.
func startRegistry(bin, dir, hubNS string, ip netip.Addr) (*registry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kign-e2e registry CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip.String()},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IPAddresses: []net.IP{ip.AsSlice()}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	r := &registry{addr: fmt.Sprintf("%s:%d", ip, registryPort), hubNS: hubNS, pool: x509.NewCertPool()}
	r.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	r.pool.AddCert(ca)
	certFile, keyFile := filepath.Join(dir, "registry.crt"), filepath.Join(dir, "registry.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	cfg, err := yaml.Marshal(registryConfig(filepath.Join(dir, "data"), r.addr, certFile, keyFile))
	if err != nil {
		return nil, err
	}
	cfgFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		return nil, err
	}
	if r.log, err = os.Create(filepath.Join(dir, "registry.log")); err != nil {
		return nil, err
	}
	// nsenter --net only: the registry needs the hub's network, nothing else.
	r.cmd = exec.Command("nsenter", "--net="+nsPath(hubNS), "--", bin, "serve", cfgFile)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	r.cmd.Env = []string{"PATH=/usr/bin:/bin", "OTEL_TRACES_EXPORTER=none"}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := r.client().Get("https://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
		select {
		case <-r.exited:
			return nil, fmt.Errorf("registry exited: %s\n%s", r.cmd.ProcessState, tailFile(r.log.Name(), 20))
		default:
		}
		if time.Now().After(deadline) {
			r.close()
			return nil, fmt.Errorf("registry at %s does not answer /v2/: %v\n%s", r.addr, err, tailFile(r.log.Name(), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// registryConfig is distribution's configuration (docs/content/about/
// configuration.md): files under root, HTTPS on addr, access log on.
func registryConfig(root, addr, cert, key string) map[string]any {
	return map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "info", "accesslog": map[string]any{"disabled": false}},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": root}, "delete": map[string]any{"enabled": false}},
		"http":    map[string]any{"addr": addr, "tls": map[string]any{"certificate": cert, "key": key}},
	}
}

// client speaks to the registry from the hub namespace, verifying its
// certificate against the registry CA only.
func (r *registry) client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: r.transport()}
}

func (r *registry) transport() *http.Transport {
	return &http.Transport{
		DialContext:     dialerIn(nsPath(r.hubNS)),
		TLSClientConfig: &tls.Config{RootCAs: r.pool, MinVersion: tls.VersionTLS12},
	}
}

// pulls counts the manifest GETs of each repository in the registry's
// access log (what containerd fetched), by repository path.
func (r *registry) pulls() map[string]int {
	data, _ := os.ReadFile(r.log.Name())
	out := map[string]int{}
	for _, l := range strings.Split(string(data), "\n") {
		i := strings.Index(l, `"GET /v2/`)
		if i < 0 {
			continue
		}
		path := strings.Fields(l[i+len(`"GET /v2/`):])[0]
		if repo, _, ok := strings.Cut(path, "/manifests/"); ok {
			out[repo]++
		}
	}
	return out
}

func (r *registry) close() {
	if r == nil || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.exited:
	default:
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.log.Close()
}

// imageSpec is what one image holds: files at their paths in the image
// (from paths on this machine), and its entrypoint.
type imageSpec struct {
	files      map[string]string // image path -> source
	links      map[string]string // image path -> link target
	entrypoint []string
}

// push assembles spec into a one-layer image and pushes it as ref.
func (r *registry) push(ctx context.Context, ref string, spec imageSpec) error {
	layerTar, err := imageLayer(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(0, 0)}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Entrypoint = spec.entrypoint
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image reference %s: %w", ref, err)
	}
	return remote.Write(tag, img, remote.WithContext(ctx), remote.WithTransport(r.transport()))
}

// imageLayer is the layer tarball of spec: folders, files (mode kept,
// symlinks followed), links.
func imageLayer(spec imageSpec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(d string) error
	mkdirs = func(d string) error {
		if d == "/" || d == "." || dirs[d] {
			return nil
		}
		if err := mkdirs(filepath.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
	}
	paths := make([]string, 0, len(spec.files)+len(spec.links))
	for p := range spec.files {
		paths = append(paths, p)
	}
	for p := range spec.links {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := mkdirs(filepath.Dir(p)); err != nil {
			return nil, err
		}
		if target, ok := spec.links[p]; ok {
			if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Linkname: target, Typeflag: tar.TypeSymlink, Mode: 0o777, ModTime: time.Unix(0, 0)}); err != nil {
				return nil, err
			}
			continue
		}
		src := spec.files[p]
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: int64(st.Mode().Perm()), Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// withLibraries adds to spec the shared libraries and the loader that the
// dynamic binaries among its files need, as ldd resolves them on this
// machine (libDirs first: unpacked Debian packages), each at the path the
// loader looks for it.
func withLibraries(spec imageSpec, libDirs []string, usrRoots map[string]string) error {
	env := append(os.Environ(), "LD_LIBRARY_PATH="+strings.Join(libDirs, ":"))
	srcs := make([]string, 0, len(spec.files))
	for _, src := range spec.files {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		cmd := exec.Command("ldd", src)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			continue // a static binary: "not a dynamic executable"
		}
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			var lib string
			switch {
			case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
				lib = f[2]
			case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
				lib = f[0] // the loader
			case len(f) >= 2 && f[1] == "=>" && f[2] == "not":
				return fmt.Errorf("%s: %s not found", src, f[0])
			default:
				continue
			}
			at := lib
			for root, prefix := range usrRoots {
				if rest, ok := strings.CutPrefix(lib, root+"/"); ok {
					at = prefix + "/" + rest
				}
			}
			if _, ok := spec.files[at]; !ok {
				spec.files[at] = lib
			}
		}
	}
	return nil
}
