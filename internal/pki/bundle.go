package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Bundle is the cluster's key material: every row of Table, per-host rows
// once per host. It is loaded from and saved to a bundle directory:
//
//	DIR/ca.crt, ca.key, front-proxy-ca.*, etcd/ca.*, sa.key, sa.pub,
//	DIR/apiserver-etcd-client.* and the other cluster-wide rows (Spec.File),
//	DIR/hosts/<host>/etcd-server.* and the other per-host rows.
//
// Directories are 0700 and files 0600. A Bundle is not safe for concurrent use.
type Bundle struct {
	entries map[slot]*entry
	// hosts holds every host with material, in plan order after Complete,
	// then the hosts no longer in the plan, sorted.
	hosts []string
	// tokenSecret is the delivery token secret (token.go); onDiskTokenSecret
	// is what Load read.
	tokenSecret, onDiskTokenSecret []byte
	// encKeys are the Secrets encryption keys (encryption.go), encKeysFile
	// their file, onDiskEncKeysFile what Load read.
	encKeys                        []EncryptionKey
	encKeysFile, onDiskEncKeysFile []byte
}

type slot struct{ spec, host string }

// entry is one row for one host (host "" for cluster-wide rows).
type entry struct {
	spec Spec
	host string
	// cert is the certificate PEM (the public key PEM for the key pair), key the private key PEM.
	cert, key []byte
	// onDisk* are the bytes Load read, nil when the file did not exist.
	onDiskCert, onDiskKey []byte
	parsed                *x509.Certificate
	signer                crypto.Signer
	certErr, keyErr       error
	// replace allows Save to replace the CA files on disk (adopt --force).
	replace bool
}

// KeyPair is a certificate and its key, as PEM and parsed.
type KeyPair struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// HostFile is one file a master needs, with the mode it should have there.
type HostFile struct {
	Spec string
	Path string
	Data []byte
	Mode fs.FileMode
}

// New returns an empty bundle.
func New() *Bundle { return &Bundle{entries: map[slot]*entry{}} }

// certExt is the extension of the row's public half in the bundle.
func (s Spec) certExt() string {
	if s.Kind == KindKeyPair {
		return ".pub"
	}
	return ".crt"
}

// BundlePaths are the row's files relative to the bundle directory.
func (s Spec) BundlePaths(host string) (cert, key string) {
	base := s.File
	if s.PerHost {
		base = filepath.Join("hosts", host, s.File)
	}
	return base + s.certExt(), base + ".key"
}

// Load reads a bundle directory. A missing directory is an empty bundle.
//
// Load refuses (returns an error for) a private key file that group or
// other may access, and a bundle directory that group or other may enter:
// the fix is in the message (chmod 600 / chmod 700). Certificates that do
// not parse are loaded as they are; Complete re-issues them, Check reports them.
func Load(dir string) (*Bundle, error) {
	b := New()
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var errs []error
	check := func(path string) {
		if fi, err := os.Stat(path); err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
			errs = append(errs, fmt.Errorf("%s: directory mode %04o lets group or other in; run chmod 700 %s", path, fi.Mode().Perm(), path))
		}
	}
	check(dir)
	check(filepath.Join(dir, "etcd"))
	check(filepath.Join(dir, "hosts"))
	check(filepath.Join(dir, "delivery"))
	secret, err := readIfExists(filepath.Join(dir, TokenSecretFile), true)
	errs = append(errs, err)
	b.tokenSecret, b.onDiskTokenSecret = secret, secret
	check(filepath.Join(dir, filepath.Dir(EncryptionKeysFile)))
	keysPath := filepath.Join(dir, EncryptionKeysFile)
	keys, err := readIfExists(keysPath, true)
	errs = append(errs, err)
	if err == nil && keys != nil {
		b.encKeys, err = parseEncryptionKeys(keysPath, keys)
		errs = append(errs, err)
		b.encKeysFile, b.onDiskEncKeysFile = keys, keys
	}
	for _, s := range Table {
		if !s.PerHost {
			errs = append(errs, b.read(dir, s, ""))
		}
	}
	hostDirs, err := os.ReadDir(filepath.Join(dir, "hosts"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, d := range hostDirs { // ReadDir sorts by name
		if !d.IsDir() {
			continue
		}
		check(filepath.Join(dir, "hosts", d.Name()))
		for _, s := range Table {
			if s.PerHost {
				errs = append(errs, b.read(dir, s, d.Name()))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// read loads one row's files, if any exists.
func (b *Bundle) read(dir string, s Spec, host string) error {
	certRel, keyRel := s.BundlePaths(host)
	cert, err := readIfExists(filepath.Join(dir, certRel), false)
	if err != nil {
		return err
	}
	key, err := readIfExists(filepath.Join(dir, keyRel), true)
	if err != nil {
		return err
	}
	if cert == nil && key == nil {
		return nil
	}
	e := &entry{spec: s, host: host, onDiskCert: cert, onDiskKey: key}
	e.set(cert, key)
	b.put(e)
	return nil
}

func readIfExists(path string, secret bool) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if secret && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: private key with mode %04o: group or other may read it; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil && fi.Size() > 0 {
		return nil, err
	}
	return data, nil
}

// set replaces the entry's material and parses it.
func (e *entry) set(cert, key []byte) {
	e.cert, e.key = cert, key
	e.parsed, e.signer, e.certErr, e.keyErr = nil, nil, nil, nil
	if key != nil {
		e.signer, e.keyErr = parseKey(key)
	}
	if cert == nil {
		return
	}
	if e.spec.Kind == KindKeyPair {
		return // the public key is checked against the private key by Complete
	}
	e.parsed, e.certErr = parseCert(cert)
}

func (b *Bundle) put(e *entry) {
	b.entries[slot{e.spec.Name, e.host}] = e
	if e.host != "" && !slices.Contains(b.hosts, e.host) {
		b.hosts = append(b.hosts, e.host)
	}
}

func (b *Bundle) get(spec, host string) *entry { return b.entries[slot{spec, host}] }

// each calls f for every entry: table order, then host order.
func (b *Bundle) each(f func(e *entry)) {
	for _, s := range Table {
		if !s.PerHost {
			if e := b.get(s.Name, ""); e != nil {
				f(e)
			}
			continue
		}
		for _, h := range b.hosts {
			if e := b.get(s.Name, h); e != nil {
				f(e)
			}
		}
	}
}

// Hosts lists the hosts the bundle has material for.
func (b *Bundle) Hosts() []string { return slices.Clone(b.hosts) }

// Get returns row spec for host ("" for cluster-wide rows). For the key
// pair, CertPEM is the public key and Cert is nil.
func (b *Bundle) Get(spec, host string) (KeyPair, bool) {
	e := b.get(spec, host)
	if e == nil || e.cert == nil || e.key == nil {
		return KeyPair{}, false
	}
	return KeyPair{Cert: e.parsed, CertPEM: e.cert, KeyPEM: e.key}, true
}

// ServiceAccount returns the service-account public and private key PEM
// (kube-apiserver --service-account-key-file / --service-account-signing-key-file,
// kube-controller-manager --service-account-private-key-file).
func (b *Bundle) ServiceAccount() (pubPEM, keyPEM []byte) {
	if e := b.get(ServiceAccountKey, ""); e != nil {
		return e.cert, e.key
	}
	return nil, nil
}

// HostFiles lists the files host needs from the bundle at the places
// Spec.HostPath and Spec.HostKeyPath give, certificates 0644 and keys 0600
// as kubeadm writes them: every cluster-wide row with a host path, and host's
// own per-host rows, never another host's.
func (b *Bundle) HostFiles(host string) ([]HostFile, error) {
	var out []HostFile
	var missing []string
	for _, s := range Table {
		if s.HostPath() == "" && s.HostKeyPath() == "" {
			continue
		}
		h := ""
		if s.PerHost {
			h = host
		}
		e := b.get(s.Name, h)
		if e == nil || e.cert == nil || e.key == nil {
			missing = append(missing, s.Name)
			continue
		}
		if s.HostPath() != "" {
			out = append(out, HostFile{Spec: s.Name, Path: s.HostPath(), Data: e.cert, Mode: 0o644})
		}
		if s.HostKeyPath() != "" {
			out = append(out, HostFile{Spec: s.Name, Path: s.HostKeyPath(), Data: e.key, Mode: 0o600})
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("host %q: bundle lacks %v (run Complete first)", host, missing)
	}
	return out, nil
}
