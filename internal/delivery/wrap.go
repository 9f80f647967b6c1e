// Package delivery turns a host's finished Ignition config into what a
// machine boots from: a wrapped config initrd (PXE, live ISO), an iPXE
// script, a small "pointer" config for cloud user-data, a matchbox export,
// and the per-host tokens `kign serve` checks. It writes nothing to disk:
// every artifact is returned as bytes or as output.File values.
//
// Which path carries secrets, and to whom:
//   - <host>.ign, <host>-ignition.img and an ISO with an embedded config
//     hold the host's private keys: whoever can read them owns the host.
//   - <host>.pointer.ign holds no key, but its bearer token fetches the full
//     config from `kign serve` once: treat it as a secret too, and hand it
//     only to that host (cloud user-data is per instance).
//   - <host>.ipxe holds only URLs and kernel arguments: `kign serve` gives
//     it to anyone, by MAC, like matchbox does.
package delivery

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/ulikunitz/xz"

	"github.com/kign-project/kign/internal/osvariant"
)

// InstallerConfigPath is where `coreos-installer pxe ignition wrap` and
// `iso ignition embed` put the config in their initrd
// (coreos/coreos-installer src/live/embed.rs INITRD_IGNITION_PATH).
const InstallerConfigPath = "config.ign"

// maxConfigSize bounds what WrapIgnition accepts and what UnwrapIgnition
// decompresses: far above any real config, far below a memory problem.
const maxConfigSize = 64 << 20

// WrapIgnition wraps ign the way `coreos-installer pxe ignition wrap` does
// (src/io/initrd.rs, Initrd::to_bytes): a newc cpio archive holding one
// regular file config.ign, mode 0600, owner 0:0, mtime 0, compressed as a
// single xz stream with a CRC32 check, because the kernel's xz decoder
// supports no other check (Documentation/staging/xz.rst). The output is
// deterministic. Append it to the FCOS live initramfs as an extra initrd, or
// embed it in a live ISO (EmbedISO).
func WrapIgnition(ign []byte) ([]byte, error) {
	return WrapFiles(map[string][]byte{InstallerConfigPath: ign})
}

// WrapIgnitionFor wraps ign at the path the OS's initramfs reads an
// appended config from (its row's InitrdConfigPath), with the parent
// folders that path needs (mode 0755).
func WrapIgnitionFor(o osvariant.OS, ign []byte) ([]byte, error) {
	return WrapFiles(map[string][]byte{o.InitrdConfigPath: ign})
}

// WrapFiles builds an xz-compressed newc initrd holding files (path ->
// contents, mode 0600), in path order, each preceded by the folders it
// needs (mode 0755), as coreos-installer's Initrd::to_bytes does: the kernel
// does not create missing parent folders when it unpacks an initrd.
func WrapFiles(files map[string][]byte) ([]byte, error) {
	paths := make([]string, 0, len(files))
	for p, data := range files {
		if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") {
			return nil, fmt.Errorf("delivery: initrd path %q must be relative and clean", p)
		}
		if len(data) > maxConfigSize {
			return nil, fmt.Errorf("delivery: %s is %d bytes, more than %d", p, len(data), maxConfigSize)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var cpioBuf bytes.Buffer
	w := cpio.NewWriter(&cpioBuf)
	made := map[string]bool{}
	for _, p := range paths {
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			dir := strings.Join(parts[:i], "/")
			if made[dir] {
				continue
			}
			made[dir] = true
			if err := w.WriteHeader(&cpio.Header{Name: dir, Mode: cpio.TypeDir | 0o755, Links: 2}); err != nil {
				return nil, err
			}
		}
		data := files[p]
		if err := w.WriteHeader(&cpio.Header{Name: p, Mode: cpio.TypeReg | 0o600, Links: 1, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	// A dictionary larger than the archive gains nothing and costs its size
	// in allocation (the library's default is 8 MiB); a small one also keeps
	// the kernel's decoder small.
	dict := 64 << 10
	for dict < cpioBuf.Len() {
		dict <<= 1
	}
	zw, err := xz.WriterConfig{CheckSum: xz.CRC32, DictCap: dict}.NewWriter(&out)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(cpioBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnwrapFiles reads an initrd made by WrapFiles (or coreos-installer): one
// xz stream holding a newc archive, optionally followed by zero padding as in
// an ISO embed area. It returns every regular file by path.
func UnwrapFiles(img []byte) (map[string][]byte, error) {
	img = bytes.TrimRight(img, "\x00")
	if len(img) == 0 {
		return map[string][]byte{}, nil
	}
	zr, err := xz.NewReader(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("delivery: initrd is not xz: %w", err)
	}
	r := cpio.NewReader(io.LimitReader(zr, maxConfigSize))
	files := map[string][]byte{}
	for {
		hdr, err := r.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("delivery: reading initrd: %w", err)
		}
		if hdr.Mode&0o170000 != cpio.TypeReg {
			continue
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("delivery: reading %s from initrd: %w", hdr.Name, err)
		}
		files[hdr.Name] = data
	}
}
