package inventory

import (
	"net/url"
	"strings"

	"github.com/kign-project/kign/internal/catalog"
)

// ApplyArtifacts applies the inventory's mirror, registry and per-artifact
// overrides to a catalog set, and the hashes of its lock file (keyed by the
// URL before the mirror) to files that have none. A file left without a
// hash stays without one: the validator, which calls this once for
// Effective, has refused it already unless allowUnverified names it.
//
// Mirror layout: a catalog URL https://HOST/PATH becomes MIRROR/HOST/PATH,
// the layout `wget -x` (and `kign artifacts --urls | wget -x -i -`) creates.
func ApplyArtifacts(set catalog.Set, a Artifacts, lock *Lock) catalog.Set {
	out := set
	out.Files = append([]catalog.File(nil), set.Files...)
	out.Images = append([]catalog.Image(nil), set.Images...)
	for i := range out.Files {
		f := &out.Files[i]
		o := a.Overrides[f.Name]
		if e, ok := lock.Lookup(LockURL(f.URL, o)); ok && !f.Verified() && o.SHA256 == "" && o.SHA512 == "" {
			f.SHA256, f.SHA512 = e.SHA256, e.SHA512
			f.Note = "hash from " + lock.File
		}
		if a.Mirror != "" {
			f.URL = MirrorURL(a.Mirror, f.URL)
		}
		if o, ok := a.Overrides[f.Name]; ok {
			if o.URL != "" {
				f.URL = o.URL
			}
			if o.SHA256 != "" || o.SHA512 != "" {
				f.SHA256, f.SHA512 = strings.ToLower(o.SHA256), strings.ToLower(o.SHA512)
				f.Note = "hash from the inventory"
			}
		}
	}
	for i := range out.Images {
		im := &out.Images[i]
		if a.ImageRegistry != "" {
			im.Ref = MirrorImage(a.ImageRegistry, im.Ref)
		}
		if o, ok := a.Overrides[im.Name]; ok && o.Image != "" {
			im.Ref = o.Image
		}
	}
	return out
}

// MirrorURL rewrites https://HOST/PATH to MIRROR/HOST/PATH.
func MirrorURL(mirror, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimRight(mirror, "/") + "/" + u.Host + u.EscapedPath()
}

// MirrorImage rewrites registry.example/repo:tag to REGISTRY/repo:tag
// (the repository path is kept; docker.io images keep their namespace).
func MirrorImage(registry, ref string) string {
	_, rest, ok := strings.Cut(ref, "/")
	if !ok {
		return ref
	}
	return strings.TrimRight(registry, "/") + "/" + rest
}
