package pki

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Save writes the bundle to dir and returns the paths it wrote, in table
// order. A file whose bytes did not change is not touched (its mtime stays).
// Every write is atomic: a temporary file in the same folder, fsync, rename.
// Folders are created 0700, files written 0600.
//
// Save refuses to
//   - overwrite a CA or the service-account key with different material,
//     unless the CA was adopted with force; the old files are then kept
//     next to the new ones as FILE.replaced-<UTC time>;
//   - overwrite a file that changed on disk since Load read it (another
//     kign run, or an operator's hand).
//
// Nothing is ever deleted: material of hosts no longer in the plan stays.
func (b *Bundle) Save(dir string) ([]string, error) {
	type write struct {
		e    *entry
		rel  string
		data []byte
		was  []byte // what Load read
	}
	var writes []write
	var errs []error
	b.each(func(e *entry) {
		certRel, keyRel := e.spec.BundlePaths(e.host)
		// Keys first: a crash between the two leaves a pair that does not
		// match, which Complete re-issues, never a certificate without its key.
		writes = append(writes, write{e, keyRel, e.key, e.onDiskKey}, write{e, certRel, e.cert, e.onDiskCert})
	})
	var todo []write
	for _, w := range writes {
		if w.data == nil {
			continue
		}
		path := filepath.Join(dir, w.rel)
		cur, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			cur = nil
		case err != nil:
			errs = append(errs, err)
			continue
		}
		if cur != nil && bytes.Equal(cur, w.data) {
			continue
		}
		if !bytes.Equal(cur, w.was) {
			errs = append(errs, fmt.Errorf("%s changed on disk since it was loaded; not overwriting it (run again)", path))
			continue
		}
		if cur != nil && w.e.spec.Kind != KindLeaf && !w.e.replace {
			errs = append(errs, fmt.Errorf("%s: refusing to replace the %s %s (kign never replaces a CA or the service-account key implicitly)", path, w.e.spec.Name, w.e.spec.Kind))
			continue
		}
		todo = append(todo, w)
	}
	encKeys, err := b.encryptionKeysToSave(dir)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	var written []string
	for _, w := range todo {
		path := filepath.Join(dir, w.rel)
		if err := mkdirs(dir, filepath.Dir(w.rel)); err != nil {
			return written, err
		}
		if w.was != nil && w.e.replace {
			if err := os.Link(path, path+".replaced-"+stamp); err != nil {
				return written, fmt.Errorf("keeping the replaced %s: %w", path, err)
			}
		}
		if err := writeAtomic(path, w.data); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	if b.tokenSecret != nil && !bytes.Equal(b.tokenSecret, b.onDiskTokenSecret) {
		if b.onDiskTokenSecret != nil {
			return written, fmt.Errorf("%s: refusing to replace the delivery token secret", filepath.Join(dir, TokenSecretFile))
		}
		if err := mkdirs(dir, filepath.Dir(TokenSecretFile)); err != nil {
			return written, err
		}
		path := filepath.Join(dir, TokenSecretFile)
		if err := writeAtomic(path, b.tokenSecret); err != nil {
			return written, err
		}
		written = append(written, path)
		b.onDiskTokenSecret = b.tokenSecret
	}
	if encKeys != nil {
		if err := mkdirs(dir, filepath.Dir(EncryptionKeysFile)); err != nil {
			return written, err
		}
		path := filepath.Join(dir, EncryptionKeysFile)
		if err := writeAtomic(path, encKeys); err != nil {
			return written, err
		}
		written = append(written, path)
		b.onDiskEncKeysFile = encKeys
	}
	// The bundle now matches the disk.
	b.each(func(e *entry) {
		e.onDiskCert, e.onDiskKey, e.replace = e.cert, e.key, false
	})
	return written, nil
}

// mkdirs creates dir and each folder of rel below it with mode 0700,
// whatever the umask; existing folders are left as they are.
func mkdirs(dir, rel string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	if rel == "." {
		return nil
	}
	path := dir
	for _, p := range strings.Split(filepath.ToSlash(rel), "/") {
		path = filepath.Join(path, p)
		if err := os.Mkdir(path, 0o700); err == nil {
			if err := os.Chmod(path, 0o700); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// writeAtomic replaces path with data: a 0600 temporary file in the same
// folder, fsync, rename, fsync of the folder.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
