// Package catalog is kign's artifact catalog: for each supported Kubernetes
// version, every file a host downloads (with its hash) and every container
// image it runs. It is a table, walked by the planner, `kign artifacts` and
// the tests; adding a release means adding rows, not code.
//
// Hashes are the sha256 sums of the official release files as recorded by
// kubernetes-sigs/kubespray (roles/kubespray_defaults/vars/main/checksums.yml
// at commit 46dbdd3, 2026-08-21). Where no citable sum exists the row has no
// hash, and the planner refuses it unless the inventory opts in explicitly
// (artifacts.allowUnverified).
package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/coreos/go-semver/semver"
)

// Arches are the CPU architectures the catalog covers.
var Arches = []string{"amd64", "arm64"}

// Component versions that ship together with one Kubernetes minor
// (kubespray's companions at the commit named above).
type Companions struct {
	Etcd             string
	Pause            string
	CNIPlugins       string
	Flannel          string
	FlannelCNIPlugin string
	Keepalived       string
	// Kubectl is the kubectl the masters apply the cluster add-ons with:
	// the minor's newest patch with a kubespray sum (kubectl supports one
	// minor of skew either way, so any patch of the minor will do).
	Kubectl string
	// CoreDNS is the version kubeadm of that minor deploys
	// (cmd/kubeadm/app/constants CoreDNSVersion: v1.14.2 in kubeadm
	// v1.36.3, v1.13.1 in v1.35.4).
	CoreDNS string
}

// companions is keyed by Kubernetes minor ("1.36").
var companions = map[string]Companions{
	"1.36": {Etcd: "3.6.14", Pause: "3.10.2", CNIPlugins: "1.9.1", Flannel: "0.28.4", FlannelCNIPlugin: "1.7.1-flannel1", Keepalived: "2.3.4", Kubectl: "1.36.4", CoreDNS: "1.14.2"},
	"1.35": {Etcd: "3.6.14", Pause: "3.10.1", CNIPlugins: "1.9.1", Flannel: "0.28.4", FlannelCNIPlugin: "1.7.1-flannel1", Keepalived: "2.3.4", Kubectl: "1.35.8", CoreDNS: "1.13.1"},
}

// kubeletSHA256 is keyed by arch, then Kubernetes version without "v".
var kubeletSHA256 = map[string]map[string]string{
	"amd64": {
		"1.36.4": "cf2562db46c48ab84cc3791540778ee7fb1a0a008529adbb434723dd02ed8b4b",
		"1.36.3": "46707a53209f826ad0f0d62371ac69cd00e78fd9a8176cf5f6f87f18f7f8b718",
		"1.35.8": "6971b9f95e54dbed67a2271abe6e78f8cc2894494649f3cf39e4b25a82dca923",
		"1.35.7": "e48cbb9c62351aa95f455bdae3c9a9e9d7d644027c231ade7a67b868b2be3258",
	},
	"arm64": {
		"1.36.4": "fd53ea3fcbd077844f50a3c67e9b52f62972a563674956bab0c0f4fb7ea37d50",
		"1.36.3": "57205a5daf5883873d87b4914e1e00bdd7707acd075714788cfb0fc1f60bc414",
		"1.35.8": "7744f84c49df6dff7d0a0471f9acef31568c02459659de83aa279cf3a04b1714",
		"1.35.7": "0dc3f53fc51f6a6c26c437ec9eded016106ef931db2dd9b3905c656796bed438",
	},
}

// cniPluginsSHA256 is keyed by arch, then CNI plugins version.
var cniPluginsSHA256 = map[string]map[string]string{
	"amd64": {"1.9.1": "b98f74a0f8522f0a83867178729c1aa70f2158f90c45a2ca8fa791db1c76b303", "1.8.0": "ab3bda535f9d90766cccc90d3dddb5482003dd744d7f22bcf98186bf8eea8be6"},
	"arm64": {"1.9.1": "56171987d3947707c3563db2f4001bccaf50fd63468611b9f3cbecb1375ee7ec", "1.8.0": "57ce466fc3b79db1f19b8f4c63e07a1112306efa53c94fe810a2150dd9e07ddb"},
}

// kubectlSHA256 is keyed by arch, then kubectl version.
var kubectlSHA256 = map[string]map[string]string{
	"amd64": {"1.36.4": "8b8f088da2dab964f853b38464033b1be15ede2839eca751482357c45abdd05a", "1.35.8": "874d5e72dbb819f43cff16bcd1e4f8bac5b7f2361fe1e55049b0a6c676fb0cbf"},
	"arm64": {"1.36.4": "0ecf44450ee6063bf19dd166a103ee6df4a9034455c2abce626e6eea657d73fb", "1.35.8": "cc749967b62f4422260bc9c0aa7a7c55f45175ae38cb8d95767b5d2b7e04c1fd"},
}

// etcdSHA256 is keyed by arch, then etcd version.
var etcdSHA256 = map[string]map[string]string{
	"amd64": {"3.6.14": "ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5", "3.5.25": "168af82b59772e1811a9af7b358d42f5c6df44e0d9767afb006ecf12c4bbd607"},
	"arm64": {"3.6.14": "fa1b80565ee6fc2df1ae6f57a508b221f3ecc7d591c317c581cd8281b0842b3e", "3.5.25": "419dce0b679df31cc45201ef2449b7a6a48e9d241af01741957c9ac86a35badc"},
}

// File is one download a host makes at first boot.
type File struct {
	// Name identifies the artifact in overrides and allowUnverified.
	Name string
	// Version of the component this file belongs to.
	Version string
	URL     string
	// SHA256 and SHA512 are lower-case hex; either may be empty.
	SHA256 string
	SHA512 string
	// Note says where the hash comes from or why there is none.
	Note string
}

// Verified reports whether the file carries a hash.
func (f File) Verified() bool { return f.SHA256 != "" || f.SHA512 != "" }

// Image is one container image a host runs.
type Image struct {
	Name string // identifies the image in overrides
	Ref  string // registry/repository:tag
}

// Set is everything one cluster fetches for one Kubernetes version and arch.
type Set struct {
	Kubernetes string // "v1.36.4"
	Arch       string
	Companions Companions
	Files      []File  // in a fixed order
	Images     []Image // in a fixed order
}

// FileNames lists the names of the set's downloads, in catalog order; they
// are the same in every set.
func (s Set) FileNames() []string {
	out := make([]string, 0, len(s.Files))
	for _, f := range s.Files {
		out = append(out, f.Name)
	}
	return out
}

// File returns the file named name.
func (s Set) File(name string) (File, bool) {
	for _, f := range s.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Image returns the image reference named name.
func (s Set) Image(name string) (Image, bool) {
	for _, im := range s.Images {
		if im.Name == name {
			return im, true
		}
	}
	return Image{}, false
}

// Artifact names, used as keys in inventories.
const (
	Kubelet          = "kubelet"
	Kubectl          = "kubectl"
	CNIPlugins       = "cni-plugins"
	Etcd             = "etcd"
	Flanneld         = "flanneld"
	FlannelCNIPlugin = "flannel-cni-plugin"

	ImageAPIServer         = "kube-apiserver"
	ImageControllerManager = "kube-controller-manager"
	ImageScheduler         = "kube-scheduler"
	ImageProxy             = "kube-proxy"
	ImageEtcd              = "etcd"
	ImagePause             = "pause"
	ImageKeepalived        = "keepalived"
	ImageCoreDNS           = "coredns"
)

// Versions lists the supported Kubernetes versions, newest first ("v1.36.4").
func Versions() []string {
	seen := map[string]bool{}
	var vs []*semver.Version
	for _, byVersion := range kubeletSHA256 {
		for v := range byVersion {
			if !seen[v] {
				seen[v] = true
				vs = append(vs, semver.New(v))
			}
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[j].LessThan(*vs[i]) })
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "v" + v.String()
	}
	return out
}

// Default is the newest supported Kubernetes version.
func Default() string { return Versions()[0] }

// Supported reports whether version ("v1.36.4") has a catalog entry.
func Supported(version string) bool {
	for _, v := range Versions() {
		if v == version {
			return true
		}
	}
	return false
}

// Lookup returns the artifact set for a Kubernetes version ("v1.36.4") and arch.
func Lookup(version, arch string) (Set, error) {
	v := strings.TrimPrefix(version, "v")
	sum, ok := kubeletSHA256[arch][v]
	if !ok {
		if _, archOK := kubeletSHA256[arch]; !archOK {
			return Set{}, fmt.Errorf("architecture %q is not in kign's catalog (supported: %s)", arch, strings.Join(Arches, ", "))
		}
		return Set{}, fmt.Errorf("Kubernetes %s is not in kign's catalog (supported: %s)", version, strings.Join(Versions(), ", "))
	}
	sv, err := semver.NewVersion(v)
	if err != nil {
		return Set{}, err
	}
	minor := fmt.Sprintf("%d.%d", sv.Major, sv.Minor)
	c, ok := companions[minor]
	if !ok {
		return Set{}, fmt.Errorf("no companion versions for Kubernetes %s", minor)
	}
	const kubespray = "sha256 from kubespray checksums.yml"
	s := Set{Kubernetes: "v" + v, Arch: arch, Companions: c}
	s.Files = []File{
		{Name: Kubelet, Version: "v" + v, URL: fmt.Sprintf("https://dl.k8s.io/release/v%s/bin/linux/%s/kubelet", v, arch), SHA256: sum, Note: kubespray},
		{Name: Kubectl, Version: "v" + c.Kubectl, URL: fmt.Sprintf("https://dl.k8s.io/release/v%s/bin/linux/%s/kubectl", c.Kubectl, arch), SHA256: kubectlSHA256[arch][c.Kubectl], Note: kubespray},
		{Name: CNIPlugins, Version: "v" + c.CNIPlugins, URL: fmt.Sprintf("https://github.com/containernetworking/plugins/releases/download/v%[1]s/cni-plugins-linux-%[2]s-v%[1]s.tgz", c.CNIPlugins, arch), SHA256: cniPluginsSHA256[arch][c.CNIPlugins], Note: kubespray},
		{Name: Etcd, Version: "v" + c.Etcd, URL: fmt.Sprintf("https://github.com/etcd-io/etcd/releases/download/v%[1]s/etcd-v%[1]s-linux-%[2]s.tar.gz", c.Etcd, arch), SHA256: etcdSHA256[arch][c.Etcd], Note: kubespray},
		{Name: Flanneld, Version: "v" + c.Flannel, URL: fmt.Sprintf("https://github.com/flannel-io/flannel/releases/download/v%s/flanneld-%s", c.Flannel, arch), Note: "flannel publishes no checksum: pin one with artifacts.overrides or allow it in artifacts.allowUnverified"},
		{Name: FlannelCNIPlugin, Version: "v" + c.FlannelCNIPlugin, URL: fmt.Sprintf("https://github.com/flannel-io/cni-plugin/releases/download/v%[1]s/flannel-%[2]s", c.FlannelCNIPlugin, arch), Note: "flannel-io/cni-plugin publishes no checksum kign can cite: pin one with artifacts.overrides or allow it in artifacts.allowUnverified"},
	}
	s.Images = []Image{
		{Name: ImageAPIServer, Ref: "registry.k8s.io/kube-apiserver:v" + v},
		{Name: ImageControllerManager, Ref: "registry.k8s.io/kube-controller-manager:v" + v},
		{Name: ImageScheduler, Ref: "registry.k8s.io/kube-scheduler:v" + v},
		{Name: ImageProxy, Ref: "registry.k8s.io/kube-proxy:v" + v},
		{Name: ImageEtcd, Ref: "registry.k8s.io/etcd:" + c.Etcd + "-0"},
		{Name: ImagePause, Ref: "registry.k8s.io/pause:" + c.Pause},
		// keepalived has no official image. osixia/keepalived:2.0.20, which
		// kubeadm's HA guide named, was built in 2020 on an old Alpine.
		// shawly/keepalived (github.com/shawly/docker-keepalived) is rebuilt
		// on each keepalived release (tag v2.3.4, 2025-12-14, alpine 3.23)
		// and published by its CI as docker.io and ghcr.io
		// shawly/keepalived:<version>. Its Dockerfile installs keepalived
		// from Alpine (/usr/sbin/keepalived) with curl and ca-certificates,
		// which the check script needs, on Alpine's /bin/sh; kign's pod
		// runs keepalived directly, not the image's s6 entrypoint.
		{Name: ImageKeepalived, Ref: "docker.io/shawly/keepalived:" + c.Keepalived},
		// kubeadm's image and version for the minor (Companions.CoreDNS).
		{Name: ImageCoreDNS, Ref: "registry.k8s.io/coredns/coredns:v" + c.CoreDNS},
	}
	return s, nil
}
