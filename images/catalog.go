package images

import (
	"fmt"
	"strings"
)

// release is one row of the catalog.
type release struct {
	os, stream, version string
	naming              naming
	// sha256 is keyed by kign arch, then role (kernel, initramfs, rootfs).
	sha256 map[string]map[string]string
	// source cites the version and the hashes; note explains what is missing.
	source, note string
	// containerd is the containerd version the release ships, where a
	// source names it ("" when none does).
	containerd, containerdSource string
}

// naming says where a release's PXE files live. URL and names are templates
// over {stream}, {version} and {arch} (the upstream architecture name).
type naming struct {
	folder                    string
	kernel, initramfs, rootfs string
	arch                      map[string]string // kign arch -> upstream name
}

var fcosArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

const fcosFolder = "https://builds.coreos.fedoraproject.org/prod/streams/{stream}/builds/{version}/{arch}"

// fcosLegacy is the naming before the live artifacts were built with
// OSBuild: the kernel is live-kernel-ARCH (dash), as in the stream metadata
// of 39.20231204.3.3 cited below.
var fcosLegacy = naming{
	folder:    fcosFolder,
	kernel:    "fedora-coreos-{version}-live-kernel-{arch}",
	initramfs: "fedora-coreos-{version}-live-initramfs.{arch}.img",
	rootfs:    "fedora-coreos-{version}-live-rootfs.{arch}.img",
	arch:      fcosArch,
}

// fcosOSBuild is the naming since the live artifacts are built with OSBuild
// (stable since 42.20250410.3.1, coreos/fedora-coreos-tracker#1725): the
// kernel is live-kernel.ARCH (dot). netbootxyz/netboot.xyz#1656 (2025-08)
// fixed the dash form, which 404s for these builds.
var fcosOSBuild = naming{
	folder:    fcosFolder,
	kernel:    "fedora-coreos-{version}-live-kernel.{arch}",
	initramfs: "fedora-coreos-{version}-live-initramfs.{arch}.img",
	rootfs:    "fedora-coreos-{version}-live-rootfs.{arch}.img",
	arch:      fcosArch,
}

// flatcarPXE is Flatcar's PXE layout (flatcar-archive/flatcar-docs,
// docs/installing/bare-metal/booting-with-pxe.md): a kernel and one
// initramfs that carries /usr; each file has a detached .sig next to it.
var flatcarPXE = naming{
	folder:    "https://{stream}.release.flatcar-linux.net/{arch}/{version}",
	kernel:    "flatcar_production_pxe.vmlinuz",
	initramfs: "flatcar_production_pxe_image.cpio.gz",
	arch:      map[string]string{"amd64": "amd64-usr", "arm64": "arm64-usr"},
}

const noHashFCOS = "no citable sha256 for this release: its stream metadata " +
	"(https://builds.coreos.fedoraproject.org/streams/STREAM.json) is not among kign's sources; " +
	"each file has a detached OpenPGP signature at URL.sig (Fedora CoreOS signing key)"

const noHashFlatcar = "no citable sha256 for this release: Flatcar publishes FILE.DIGESTS " +
	"and a detached OpenPGP signature FILE.sig next to each file (Flatcar image signing key); " +
	"none of them is among kign's sources"

// catalog is the table. Every version is a real release that a source
// names; a hash is only recorded when a source gives it, never computed.
var catalog = []release{
	{
		// The newest Fedora CoreOS stable release in the official release
		// notes: coreos/fedora-coreos-streams release-notes/stable.yml at
		// commit dd571cbb2d424aa2b7b81a20b3d79a8d672c193f.
		os: FCOS, stream: "stable", version: "42.20250901.3.0", naming: fcosOSBuild,
		source: "coreos/fedora-coreos-streams release-notes/stable.yml @ dd571cb",
		note:   noHashFCOS,
	},
	{
		// The official stream metadata: coreos/fedora-coreos-streams
		// streams/stable.json at commit 61b1732a11faee86a772abeb1a38202bc6bec246
		// (last-modified 2024-01-08), architectures.*.artifacts.metal.formats.pxe.
		os: FCOS, stream: "stable", version: "39.20231204.3.3", naming: fcosLegacy,
		// Fedora 39's containerd, fast-tracked into FCOS the same week.
		containerd: "1.6.23", containerdSource: "coreos/fedora-coreos-config#2759 (containerd-1.6.23-2.fc39)",
		sha256: map[string]map[string]string{
			"amd64": {
				"kernel":    "5490e2d24924f2f9a71b5cab901d6f9936ad9ad5190f3021b58adb4f2e7d1e09",
				"initramfs": "5b7523c13841bd938a43124c0b603fda6355ee411797716c97ffc7d7d926da34",
				"rootfs":    "fe4b85ea35746f6f2efadb4909519bab9fd83c2e27fdf21ffa44721416567904",
			},
			"arm64": {
				"kernel":    "7b8d0485c7b70cdd881b4b728d7d87a88a49847a17901292030ed9bbdfc217e9",
				"initramfs": "f664021705586c1f0d635a67a7fb2128fb249c5baab1ab488d21ad12da40d91c",
				"rootfs":    "5f4b793b408e0b29ba638f0a6b57df4f0336a6f4b52ab72eefbafea158de3a5b",
			},
		},
		source: "coreos/fedora-coreos-streams streams/stable.json @ 61b1732 (official stream metadata)",
	},
	{
		// A verbatim copy of the official stable stream metadata
		// (generator fedora-coreos-stream-generator v0.2.15, last-modified
		// 2024-08-15) kept as test data in nveeser/corepxe,
		// coreos/testdata/stable.json at commit 5b8a1c8c67bf19f8fdf9370931e4d55df7fcfb65.
		// It covers x86_64 only.
		os: FCOS, stream: "stable", version: "40.20240728.3.0", naming: fcosLegacy,
		sha256: map[string]map[string]string{
			"amd64": {
				"kernel":    "559b86e867a743956204d1f17e492c3273c6ef288accf3aa0c4356e16a9aa439",
				"initramfs": "9e7911cd5a129f3ef83c646afd06149745ecb60ef9d8b1223fea61a5615b86b5",
				"rootfs":    "ef014785149ebf9fd88c13aa23ff24486161e422e4f702ce8a7691b569e1d117",
			},
		},
		source: "stable stream metadata copied in nveeser/corepxe coreos/testdata/stable.json @ 5b8a1c8",
		note:   "that copy of the stream metadata covers x86_64 only",
	},
	{
		// Flatcar's release tracking issue flatcar/Flatcar#2133
		// ("Release Flatcar May 2026 II - ... Stable 4593.2.2", build and
		// go/no-go ticked).
		os: Flatcar, stream: "stable", version: "4593.2.2", naming: flatcarPXE,
		containerd: "2.1", containerdSource: "flatcar/scripts stable-4593.2.5 package.accept_keywords (=app-containers/containerd-2.1*)",
		source: "flatcar/Flatcar#2133 (release of Stable 4593.2.2, May 2026)",
		note:   noHashFlatcar,
	},
	{
		// flatcar/Flatcar#1886 (closed): "Release ... Stable 4230.2.3"
		// (September 2025).
		os: Flatcar, stream: "stable", version: "4230.2.3", naming: flatcarPXE,
		containerd: "1.7.23", containerdSource: "flatcar/scripts stable-4230.2.4 package.accept_keywords (=app-containers/containerd-1.7.23)",
		source: "flatcar/Flatcar#1886 (release of Stable 4230.2.3, September 2025)",
		note:   noHashFlatcar,
	},
}

// image renders the row for arch, below mirror when set.
func (r release) image(arch, mirror string) (Image, error) {
	up, ok := r.naming.arch[arch]
	if !ok {
		return Image{}, fmt.Errorf("images: %s %s has no %s build", r.os, r.version, arch)
	}
	rep := strings.NewReplacer("{stream}", r.stream, "{version}", r.version, "{arch}", up)
	folder := rep.Replace(r.naming.folder)
	if mirror != "" {
		folder = strings.TrimRight(mirror, "/")
	}
	file := func(role, tmpl string) File {
		if tmpl == "" {
			return File{}
		}
		name := rep.Replace(tmpl)
		return File{Name: name, URL: folder + "/" + name, SHA256: r.sha256[arch][role]}
	}
	img := Image{
		OS: r.os, Stream: r.stream, Version: r.version, Arch: arch,
		Kernel:     file("kernel", r.naming.kernel),
		Initramfs:  file("initramfs", r.naming.initramfs),
		Rootfs:     file("rootfs", r.naming.rootfs),
		Mirror:     strings.TrimRight(mirror, "/"),
		Containerd: r.containerd, ContainerdSource: r.containerdSource,
		Source: r.source,
		Note:   r.note,
	}
	if r.sha256 != nil && r.sha256[arch] == nil {
		img.Note = strings.TrimPrefix(img.Note+"; no cited hash for "+arch, "; ")
	}
	return img, nil
}
