package inventory

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kign-project/kign/images"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/diag"
	"github.com/kign-project/kign/internal/osvariant"
)

// pki checks how certificates are made.
func (v *validator) pki() {
	p := v.inv.PKI
	if p.KeyAlgorithm != "" {
		v.oneOf("pki.keyAlgorithm", p.KeyAlgorithm, "rsa", "ecdsa")
	}
	ca := v.duration("pki.caValidity", p.CAValidity, DefaultCAValidity)
	cert := v.duration("pki.certValidity", p.CertValidity, DefaultCertValidity)
	v.caValidity, v.certValidity = ca, cert
	if ca > 0 && cert > ca {
		at := "pki.caValidity"
		if p.CertValidity != "" {
			at = "pki.certValidity"
		}
		v.errorf(at, "certificates (certValidity %s) would outlive the CA that signs them (caValidity %s)", hours(cert), hours(ca))
	}
}

// duration parses a validity period; it returns 0 when s is invalid.
func (v *validator) duration(path, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.errorf(path, "%q is not a Go duration (units h, m, s: e.g. 8760h for a year)", s)
		return 0
	case d <= 0:
		v.errorf(path, "%s is not a positive duration", s)
		return 0
	}
	return d
}

// artifacts checks the mirror, registry and overrides against the catalog
// set of the effective Kubernetes version and arch, and that every file
// hosts download is either hash-pinned or explicitly allowed without.
func (v *validator) artifacts() {
	a := v.inv.Artifacts
	arch := DefaultArch
	if a.Arch != "" {
		arch = ""
		if v.oneOf("artifacts.arch", a.Arch, catalog.Arches...) {
			arch = a.Arch
		}
	}
	if a.Mirror != "" {
		v.check("artifacts.mirror", httpURLProblem(a.Mirror, true))
	}
	if a.ImageRegistry != "" {
		v.check("artifacts.imageRegistry", registryProblem(a.ImageRegistry))
	}
	if a.ImageRegistryCA != "" {
		if a.ImageRegistry == "" {
			v.errorf("artifacts.imageRegistryCA", "is set without artifacts.imageRegistry: the CA is trusted for that registry only")
		} else {
			v.check("artifacts.imageRegistryCA", registryCAProblem(a.ImageRegistryCA))
		}
	}

	// Artifact names are the same in every catalog set; when the version or
	// arch is invalid (already reported) the default set still names them.
	set, err := catalog.Lookup(v.version, arch)
	effective := err == nil && v.version != "" && arch != ""
	if !effective {
		if set, err = catalog.Lookup(catalog.Default(), DefaultArch); err != nil {
			v.errorf("artifacts", "kign's catalog has no default set: %v", err)
			return
		}
	}
	var names []string
	for _, f := range set.Files {
		names = append(names, f.Name)
	}
	for _, im := range set.Images {
		if _, dup := set.File(im.Name); !dup {
			names = append(names, im.Name)
		}
	}

	keys := make([]string, 0, len(a.Overrides))
	for k := range a.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pinned := map[string]bool{}
	for _, name := range keys {
		o := a.Overrides[name]
		pinned[name] = o.SHA256 != "" || o.SHA512 != ""
		v.override("artifacts.overrides."+name, name, o, set, names)
	}

	allowed := map[string]bool{}
	for i, name := range a.AllowUnverified {
		p := fmt.Sprintf("artifacts.allowUnverified[%d]", i)
		allowed[name] = true
		_, isFile := set.File(name)
		_, isImage := set.Image(name)
		switch {
		case isFile:
		case isImage:
			v.errorf(p, "%q is a container image; allowUnverified lists downloaded files (%s)", name, strings.Join(set.FileNames(), ", "))
		default:
			v.errorf(p, "%q is not a downloaded file in kign's catalog%s (files: %s)", name, didYouMean(name, set.FileNames()), strings.Join(set.FileNames(), ", "))
		}
	}

	if !effective {
		return
	}
	v.arch, v.catalogSet = arch, set
	for _, f := range set.Files {
		if f.Verified() || pinned[f.Name] || allowed[f.Name] || v.locking {
			continue
		}
		if _, ok := v.inv.Lock.Lookup(LockURL(f.URL, a.Overrides[f.Name])); ok {
			continue
		}
		// The download comes from kign's catalog, not from a line of the
		// inventory: point at the artifacts section when there is one.
		at, where := "artifacts", ""
		switch {
		case v.set("artifacts.allowUnverified"):
			at = "artifacts.allowUnverified"
		case !v.set("artifacts"):
			where = " (no line: the download is in kign's catalog)"
		}
		lock := "hosts.lock"
		if v.inv.Lock != nil {
			lock = filepath.Base(v.inv.Lock.File)
		}
		pos := v.at(at)
		if where != "" {
			pos = diag.Pos{File: v.inv.File}
		}
		v.rep.Errorf(pos, at, "%s %s (%s) has no hash%s: run `kign artifacts lock --hosts %s` to download it once and record its sha256 and sha512 in %s "+
			"(or pin one with artifacts.overrides.%s.sha256, or list it in artifacts.allowUnverified to download it unverified)",
			f.Name, f.Version, f.URL, where, v.inv.File, lock, f.Name)
	}
}

// LockURL is the URL a lock file keys a download by: the override's URL
// when the inventory gives one, else the catalog's (before any mirror).
func LockURL(catalogURL string, o ArtifactOverride) string {
	if o.URL != "" {
		return o.URL
	}
	return catalogURL
}

// override checks artifacts.overrides.NAME: files take url and hashes,
// images take image ("etcd" is both).
func (v *validator) override(path, name string, o ArtifactOverride, set catalog.Set, names []string) {
	_, isFile := set.File(name)
	_, isImage := set.Image(name)
	if !isFile && !isImage {
		v.errorf(path, "%q is not an artifact in kign's catalog%s (artifacts: %s)", name, didYouMean(name, names), strings.Join(names, ", "))
		return
	}
	if !isFile && (o.URL != "" || o.SHA256 != "" || o.SHA512 != "") {
		v.errorf(path, "%s is a container image: only image applies (url, sha256 and sha512 are for downloaded files)", name)
	}
	if !isImage && o.Image != "" {
		v.errorf(path+".image", "%s is a downloaded file, not a container image: set url, sha256 or sha512", name)
	}
	if isFile && o.URL != "" {
		v.check(path+".url", httpURLProblem(o.URL, false))
	}
	if o.SHA256 != "" && !isHex(o.SHA256, 64) {
		v.errorf(path+".sha256", "is not a SHA-256 sum (64 hex digits, as sha256sum prints)")
	}
	if o.SHA512 != "" && !isHex(o.SHA512, 128) {
		v.errorf(path+".sha512", "is not a SHA-512 sum (128 hex digits, as sha512sum prints)")
	}
	if isImage && o.Image != "" {
		v.check(path+".image", imageProblem(o.Image))
	}
}

// hours renders whole-hour durations the way they are usually written: 8760h.
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// streams are the release streams of each OS.
var osVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`)

// images checks the OS image selection.
func (v *validator) images() {
	im := v.inv.Images
	if im.Stream != "" && v.os != "" {
		streams := osvariant.MustLookup(v.os).Streams
		if !slices.Contains(streams, im.Stream) {
			v.errorf("images.stream", "%q is not a %s stream (%s)%s", im.Stream, v.os, strings.Join(streams, ", "), didYouMean(im.Stream, streams))
		}
	}
	versionOK := im.Version == "" || osVersion.MatchString(im.Version)
	if !versionOK {
		v.errorf("images.version", "%q is not an OS release version (e.g. 42.20250901.3.0 for fcos, 4593.2.2 for flatcar)", clip(im.Version))
	}
	mirrorOK := im.Mirror == "" || v.check("images.mirror", httpURLProblem(im.Mirror, true))
	if v.os == "" || !versionOK || !mirrorOK {
		return
	}
	// The image the plan will use, with its defaults (images.Lookup).
	img, err := images.Lookup(v.os, im.Stream, im.Version, v.arch, im.Mirror)
	if err != nil {
		return // a bad stream, reported above
	}
	v.image = img
	if img.OldContainerd() {
		v.errorf("images.version", "%s %s ships containerd %s (%s); kign's containerd config needs %s or newer: pick a newer release", v.os, img.Version, img.Containerd, img.ContainerdSource, images.MinContainerd)
	}
	if _, ok := img.MirrorParent(); img.Mirror != "" && !ok && v.inv.Delivery.Boot != BootLive &&
		osvariant.MustLookup(v.os).Installer == osvariant.FlatcarInstall {
		v.errorf("images.mirror", "%q must end in /%s: flatcar-install, which installs each master, fetches BASEURL/VERSION/flatcar_production_image.bin.bz2 (and its .sig) from the mirror", clip(im.Mirror), img.Version)
	}
}
