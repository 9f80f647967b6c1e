// Package images is kign's OS image catalog: for Fedora CoreOS and Flatcar
// Container Linux, the PXE kernel, initramfs and (FCOS) rootfs of each
// catalogued release, with the sha256 of each file where a citable source
// gives one. It is a table (catalog.go), walked by Lookup, `kign gen` (iPXE
// scripts, matchbox profiles) and the tests.
//
// An inventory picks a release with images.stream and images.version and
// redirects every file to an air-gapped mirror with images.mirror: the
// mirror replaces the release folder, so a mirror holds the files of one
// release side by side under their upstream names (see Lookup).
package images

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kign-project/kign/internal/osvariant"
)

// OS variants (internal/osvariant holds their facts).
const (
	FCOS    = osvariant.FCOS
	Flatcar = osvariant.Flatcar
)

// Arches are the CPU architectures, in kign's (Go) names, that the catalog covers.
var Arches = []string{"amd64", "arm64"}

// Image is one OS release for one architecture, ready to PXE boot.
type Image struct {
	OS      string // fcos | flatcar
	Stream  string // stable, testing, ... (FCOS) or the Flatcar channel
	Version string // 42.20250901.3.0, 4593.2.2
	Arch    string // kign's name: amd64 | arm64
	// Kernel, Initramfs and Rootfs are the PXE files. Rootfs is empty for
	// Flatcar, whose PXE initramfs carries /usr itself.
	Kernel    File
	Initramfs File
	Rootfs    File
	// Catalogued is false for a version the inventory pinned that is not in
	// kign's table: its URLs follow the newest catalogued naming and no
	// file has a hash.
	Catalogued bool
	// Containerd is the containerd version the release ships where a
	// source says (ContainerdSource), else "".
	Containerd, ContainerdSource string
	// Mirror is images.mirror: the folder every file comes from instead of
	// the release's own; empty for upstream.
	Mirror string
	// Source cites where the version (and hashes) come from.
	Source string
	// Note explains missing hashes and any other caveat.
	Note string
}

// File is one downloadable file of an image.
type File struct {
	// Name is the upstream file name, also used on mirrors.
	Name string
	URL  string
	// SHA256 is lower-case hex, empty when no citable source gives it.
	SHA256 string
}

// MinContainerd is the oldest containerd that reads kign's containerd
// config: version 3 needs 2.0, its CNI bin_dirs key 2.1
// (internal/render/containerd.go).
const MinContainerd = "2.1"

// OldContainerd reports whether the release is known to ship a containerd
// older than MinContainerd.
func (i Image) OldContainerd() bool {
	return i.Containerd != "" && newerVersion(MinContainerd, i.Containerd)
}

// MirrorParent is the folder above the mirror's release folder, which must
// end in the version: flatcar-install's -b BASEURL, from which it fetches
// BASEURL/VERSION/flatcar_production_image.bin.bz2 and its .sig (the layout
// of Flatcar's own servers and of matchbox's scripts/get-flatcar). ok is
// false without a mirror or for a mirror laid out otherwise.
func (i Image) MirrorParent() (string, bool) {
	base, ok := strings.CutSuffix(i.Mirror, "/"+i.Version)
	return base, ok && base != ""
}

// Files returns the image's files in boot order (kernel, initramfs, rootfs),
// without the empty rootfs of Flatcar.
func (i Image) Files() []File {
	out := []File{i.Kernel, i.Initramfs}
	if i.Rootfs.Name != "" {
		out = append(out, i.Rootfs)
	}
	return out
}

// Verified reports whether every file of the image has a hash.
func (i Image) Verified() bool {
	for _, f := range i.Files() {
		if f.SHA256 == "" {
			return false
		}
	}
	return true
}

// Lookup returns the image of os at stream and version for arch, with every
// URL below mirror when mirror is set. Empty arguments take defaults: the
// first stream of the OS (internal/osvariant), the newest catalogued version of that stream
// (DefaultVersion) and amd64.
//
// A version absent from the catalog is accepted (an operator may pin a newer
// release than kign knows), with Catalogued false and a Note; its file names
// follow the newest catalogued release of the OS.
//
// mirror replaces the upstream release folder: the file NAME is fetched from
// MIRROR/NAME, e.g. https://mirror.example/fcos/42.20250901.3.0/fedora-coreos-42.20250901.3.0-live-kernel.x86_64.
func Lookup(os, stream, version, arch, mirror string) (Image, error) {
	row, err := osvariant.Lookup(os)
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	streams := row.Streams
	if stream == "" {
		stream = streams[0]
	}
	if !contains(streams, stream) {
		return Image{}, fmt.Errorf("images: %s has no stream %q (want one of %s)", os, stream, strings.Join(streams, ", "))
	}
	if arch == "" {
		arch = "amd64"
	}
	if !contains(Arches, arch) {
		return Image{}, fmt.Errorf("images: unknown arch %q (want one of %s)", arch, strings.Join(Arches, ", "))
	}
	if version == "" {
		version = DefaultVersion(os, stream)
		if version == "" {
			return Image{}, fmt.Errorf("images: kign's catalog has no %s %s release; set images.version to pin one", os, stream)
		}
	}
	r, catalogued := find(os, stream, version)
	if !catalogued {
		newest, ok := newestOf(os)
		if !ok {
			return Image{}, fmt.Errorf("images: no %s release in the catalog", os)
		}
		r = release{
			os: os, stream: stream, version: version, naming: newest.naming,
			source: "pinned by the inventory, not in kign's catalog",
			note: fmt.Sprintf("%s %s is not in kign's catalog: file names follow %s and no hash is known; "+
				"check them against the release's own metadata", os, version, newest.version),
		}
	}
	img, err := r.image(arch, mirror)
	if err != nil {
		return Image{}, err
	}
	img.Catalogued = catalogued
	return img, nil
}

// DefaultVersion is the newest catalogued release of os in stream, or "" if
// the catalog has none.
func DefaultVersion(os, stream string) string {
	best := ""
	for _, r := range catalog {
		if r.os == os && r.stream == stream && (best == "" || newerVersion(r.version, best)) {
			best = r.version
		}
	}
	return best
}

// Releases lists every catalogued (os, stream, version) as "os/stream/version",
// sorted, for `kign artifacts`-style listings and tests.
func Releases() []string {
	var out []string
	for _, r := range catalog {
		out = append(out, r.os+"/"+r.stream+"/"+r.version)
	}
	sort.Strings(out)
	return out
}

func find(os, stream, version string) (release, bool) {
	for _, r := range catalog {
		if r.os == os && r.stream == stream && r.version == version {
			return r, true
		}
	}
	return release{}, false
}

func newestOf(os string) (release, bool) {
	var best release
	found := false
	for _, r := range catalog {
		if r.os == os && (!found || newerVersion(r.version, best.version)) {
			best, found = r, true
		}
	}
	return best, found
}

// newerVersion compares dotted numeric versions (42.20250901.3.0, 4593.2.2).
func newerVersion(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			if len(as[i]) != len(bs[i]) {
				return len(as[i]) > len(bs[i])
			}
			return as[i] > bs[i]
		}
	}
	return len(as) > len(bs)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
