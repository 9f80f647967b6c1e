#!/usr/bin/env bash
# e2e-tools.sh K8S_VERSION [ETCD_VERSION] — build or fetch every real component
# the end-to-end test (e2e/, `make e2e`) runs, and print where they are as
# NAME=PATH lines on stdout (progress goes to stderr).
#
# Everything lands in ${KIGN_TOOLS:-$HOME/.cache/kign-tools}, one folder per
# component and version, so a second run only checks that the files exist:
#
#   ignition-v2.26.0/ignition          hack/build-ignition.sh (kign's validator version)
#   etcd-v3.6.14/{etcd,etcdctl,etcdutl} go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3
#   kubernetes-v1.36.3/kube-*,kubelet  k8s.io/kubernetes, nearest served patch
#   flannel-v0.28.4/flanneld           github.com/flannel-io/flannel (private module)
#   flannel-cni-v0.9.1/flannel         containernetworking/plugins' meta/flannel
#   nspawn-<debver>/usr/bin/systemd-nspawn  Debian's systemd-container, unpacked
#   cni-<debver>/usr/lib/cni/*         Debian's containernetworking-plugins, unpacked
#   usr-extra-<debver>/usr             Debian's iptables, unpacked, + usr/lib/modules
#   go/{build,mod}                     Go build and module caches of these builds
#
# K8S_VERSION is the inventory's kubernetesVersion (v1.36.4): the module proxy
# does not serve every patch release, so the nearest served patch of the same
# minor is built (v1.36.4 -> v1.36.3, v1.35.8 -> v1.35.4) and printed as
# K8S_BUILT. Kubernetes and etcd carry replace directives, so `go install`
# refuses them: each is built inside a small private module under the cache
# that requires the release and (for Kubernetes) replaces every k8s.io staging
# module with its published v0.Y.Z twin.
#
# Nothing here touches the host's packages: the Debian packages are fetched
# with `apt-get download` and unpacked with `dpkg -x` (installing
# systemd-container would upgrade the host's systemd).
#
# Cold (2 cores, measured at d9b94a3): 933 s for the first Kubernetes minor
# (its build, 813 s, runs beside the other tools'), 407 s for a second one;
# about 9 GB of cache. Warm: a few seconds.
set -euo pipefail

k8s_want=${1:?usage: e2e-tools.sh K8S_VERSION [ETCD_VERSION]}
etcd_version=${2:-v3.6.14}
flannel_version=${E2E_FLANNEL_VERSION:-v0.28.4}
case $k8s_want in v*) ;; *) k8s_want=v$k8s_want ;; esac
case $etcd_version in v*) ;; *) etcd_version=v$etcd_version ;; esac

here=$(cd "$(dirname "$0")" && pwd)
tools=${KIGN_TOOLS:-$HOME/.cache/kign-tools}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)
export GOCACHE=$tools/go/build GOMODCACHE=$tools/go/mod GOFLAGS=-mod=mod GOTOOLCHAIN=local
export CGO_ENABLED=0
log() { echo "e2e-tools: $*" >&2; }

# --- Ignition: the version kign's go.mod pins (the validator kign links). ---
ign_version=$(awk '$1 == "github.com/coreos/ignition/v2" {print $2; exit}' "$here/../go.mod")
ign_version=${ign_version:-v2.26.0}
t0=$SECONDS
[[ -x $tools/ignition-$ign_version/ignition ]] || log "building Ignition $ign_version (hack/build-ignition.sh)"
ignition=$(CGO_ENABLED=1 "$here/build-ignition.sh" "$ign_version")
((SECONDS - t0 < 5)) || log "Ignition ready in $((SECONDS - t0)) s"
echo "IGNITION=$ignition"

# --- etcd ---
etcd_dir=$tools/etcd-$etcd_version
if [[ ! -x $etcd_dir/etcd || ! -x $etcd_dir/etcdctl || ! -x $etcd_dir/etcdutl ]]; then
	log "building etcd $etcd_version"
	t0=$SECONDS
	src=$tools/src/etcd-$etcd_version
	rm -rf "$src"
	mkdir -p "$src/cmd/etcd"
	cat >"$src/go.mod" <<EOF
module kign.invalid/e2e-etcd

go 1.24
EOF
	cat >"$src/cmd/etcd/main.go" <<'EOF'
// Command etcd is etcd's server main (go.etcd.io/etcd/v3's main.go).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
	# etcdctl's and etcdutl's main packages are their module roots: pinned
	# by a file that is never compiled, built by import path below.
	cat >"$src/tools.go" <<'EOF'
//go:build tools

// Package tools pins etcdctl and etcdutl, which this module builds by
// import path.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
EOF
	(
		cd "$src"
		go get "go.etcd.io/etcd/server/v3@$etcd_version" "go.etcd.io/etcd/etcdctl/v3@$etcd_version" "go.etcd.io/etcd/etcdutl/v3@$etcd_version" >&2
		go mod tidy >&2
		mkdir -p "$etcd_dir.tmp"
		ld="-X go.etcd.io/etcd/api/v3/version.GitSHA=kign-e2e"
		# One build, so the three links run side by side; `go help build`:
		# with -o naming a folder ("ends with a slash") each executable is
		# written there, named after "the last non-major-version component"
		# of its import path (etcd, etcdctl, etcdutl).
		go build -trimpath -ldflags "$ld" -o "$etcd_dir.tmp/" ./cmd/etcd go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3
	)
	rm -rf "$etcd_dir"
	mv "$etcd_dir.tmp" "$etcd_dir"
	log "etcd built in $((SECONDS - t0)) s"
fi
echo "ETCD_DIR=$etcd_dir"
echo "ETCD_VERSION=$etcd_version"

# --- Kubernetes: the nearest served patch of the inventory's minor. ---
k8s_resolve=$tools/kubernetes-resolved-$k8s_want
if [[ -s $k8s_resolve ]]; then
	k8s_version=$(cat "$k8s_resolve")
else
	minor=$(echo "$k8s_want" | cut -d. -f1,2)
	want_patch=$(echo "$k8s_want" | cut -d. -f3)
	served=$(cd "$tools" && go list -m -versions k8s.io/kubernetes | tr ' ' '\n' | grep -E "^${minor//./\\.}\.[0-9]+$" || true)
	if [[ -z $served ]]; then
		log "no k8s.io/kubernetes $minor.x is served by the module proxy"
		exit 1
	fi
	# Nearest patch; on a tie the older one (it exists for longer).
	k8s_version=$(for v in $served; do p=${v##*.}; d=$((p - want_patch)); echo "${d#-} $p $v"; done | sort -n -k1,1 -k2,2 | head -1 | cut -d' ' -f3)
	echo "$k8s_version" >"$k8s_resolve"
fi
k8s_dir=$tools/kubernetes-$k8s_version
# K8S_EXTRA_CMDS adds commands (make bench-peers: kubeadm).
k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubectl ${K8S_EXTRA_CMDS:-})
# Only the commands not built yet (a cache from before kubectl was needed
# keeps its other binaries).
missing=()
for c in "${k8s_cmds[@]}"; do [[ -x $k8s_dir/$c ]] || missing+=("$c"); done
# The build is the longest step (about 14 minutes cold) and is mostly
# compiling, which leaves a core idle while the other tools download and
# link: it runs in the background beside them (its log goes to stderr with
# the rest) and is waited for before its paths are printed. Should anything
# in the foreground fail, the EXIT trap stops it.
k8s_build() {
	local t0=$SECONDS
	src=$tools/src/kubernetes-$k8s_version
	rm -rf "$src"
	mkdir -p "$src"
	# The staging modules kubernetes replaces with ./staging/src/k8s.io/X are
	# published as k8s.io/X v0.<minor>.<patch>.
	modfile=$(cd "$tools" && go mod download -json "k8s.io/kubernetes@$k8s_version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	staging_version=v0.${k8s_version#v1.}
	{
		echo "module kign.invalid/e2e-kubernetes"
		echo
		echo "go 1.24"
		echo
		echo "require k8s.io/kubernetes $k8s_version"
		echo
		grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$modfile" |
			awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
	} >"$src/go.mod"
	{
		echo "//go:build tools"
		echo
		echo "// Package tools pins the Kubernetes commands this module builds."
		echo "package tools"
		echo
		echo "import ("
		for c in "${k8s_cmds[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
		echo ")"
	} >"$src/tools.go"
	(
		cd "$src"
		go mod tidy >&2
		rm -rf "$k8s_dir.tmp"
		mkdir -p "$k8s_dir.tmp"
		if [[ -d $k8s_dir ]]; then cp -a "$k8s_dir/." "$k8s_dir.tmp/"; fi
		major=${k8s_version#v}
		major=${major%%.*}
		minorn=$(echo "$k8s_version" | cut -d. -f2)
		pkg=k8s.io/component-base/version
		ld="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minorn -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
		ld="$ld -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version"
		# One build for all commands, so their links run side by side
		# (-o names a folder: see etcd above).
		pkgs=()
		for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
		go build -trimpath -ldflags "$ld" -o "$k8s_dir.tmp/" "${pkgs[@]}"
	)
	for c in "${k8s_cmds[@]}"; do
		[[ -x $k8s_dir.tmp/$c ]] || { log "Kubernetes build left no $c"; return 1; }
	done
	rm -rf "$k8s_dir"
	mv "$k8s_dir.tmp" "$k8s_dir"
	log "Kubernetes built in $((SECONDS - t0)) s"
}
k8s_pid=
if ((${#missing[@]})); then
	log "building Kubernetes $k8s_version in the background: ${missing[*]} (wanted $k8s_want; about 14 minutes cold, 7 for a second minor)"
	# In a process group of its own (job control on for the fork), so
	# that the EXIT trap stops go and every compile and link it started.
	set -m
	k8s_build >&2 &
	k8s_pid=$!
	set +m
	trap '[[ -z $k8s_pid ]] || kill -- "-$k8s_pid" 2>/dev/null || true' EXIT
fi

# --- flanneld ---
# `go install github.com/flannel-io/flannel@VERSION` fails: its tencentvpc
# backend needs tencentcloud-sdk-go/tencentcloud/common v1.3.79, which the
# module proxy does not serve (403). The private module replaces it with the
# nearest newer served version (v1.3.103); flanneld's own code, including
# the vxlan backend the test uses, is built unchanged, by import path. cgo
# is on, as in flannel's release builds (its udp backend needs it).
fl_dir=$tools/flannel-$flannel_version
if [[ ! -x $fl_dir/flanneld ]]; then
	log "building flanneld $flannel_version"
	t0=$SECONDS
	src=$tools/src/flannel-$flannel_version
	rm -rf "$src"
	mkdir -p "$src"
	cat >"$src/go.mod" <<EOF
module kign.invalid/e2e-flannel

go 1.24

require github.com/flannel-io/flannel $flannel_version

replace github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common => github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common v1.3.103
EOF
	cat >"$src/tools.go" <<'EOF'
//go:build tools

// Package tools pins flanneld, which this module builds by import path.
package tools

import _ "github.com/flannel-io/flannel"
EOF
	(
		cd "$src"
		go mod tidy >&2
		mkdir -p "$fl_dir.tmp"
		CGO_ENABLED=1 go build -trimpath \
			-ldflags "-X github.com/flannel-io/flannel/pkg/version.Version=$flannel_version" \
			-o "$fl_dir.tmp/flanneld" github.com/flannel-io/flannel
	)
	rm -rf "$fl_dir"
	mv "$fl_dir.tmp" "$fl_dir"
	log "flanneld built in $((SECONDS - t0)) s"
fi
echo "FLANNEL_DIR=$fl_dir"

# --- the flannel CNI plugin ---
# github.com/flannel-io/cni-plugin is not served by the module proxy; its
# source at the catalog's tag is kept unchanged in e2e/third_party (see the
# README there) and built here with its dependencies from the proxy.
# containerd runs it (and the bridge plugin it delegates to) for every pod.
fcni_version=v1.7.1-flannel1
fcni_dir=$tools/flannel-cni-$fcni_version
if [[ ! -x $fcni_dir/flannel ]]; then
	log "building the flannel CNI plugin $fcni_version (e2e/third_party/flannel-cni-plugin)"
	src=$tools/src/flannel-cni-$fcni_version
	rm -rf "$src"
	mkdir -p "$src" "$fcni_dir.tmp"
	cp "$here/../e2e/third_party/flannel-cni-plugin/"*.go "$here/../e2e/third_party/flannel-cni-plugin/go."* "$src/"
	(cd "$src" && go build -trimpath -ldflags "-X main.Program=flannel -X main.Version=$fcni_version -X main.Commit=c11ca80f -X main.buildDate=1970-01-01" -o "$fcni_dir.tmp/flannel" .)
	rm -rf "$fcni_dir"
	mv "$fcni_dir.tmp" "$fcni_dir"
fi
echo "FLANNEL_CNI=$fcni_dir/flannel"

# --- the CNI plugins of kign's catalog (containernetworking/plugins) ---
# Built by import path, one binary per plugin of the release tarball.
cni_version=${E2E_CNI_VERSION:-v1.9.1}
cni_dir=$tools/cni-plugins-$cni_version
cni_plugins="main/bridge main/host-device main/ipvlan main/loopback main/macvlan main/ptp main/vlan main/dummy main/tap ipam/dhcp ipam/host-local ipam/static meta/bandwidth meta/firewall meta/portmap meta/sbr meta/tuning meta/vrf"
if [[ ! -f $cni_dir/.done ]]; then
	log "building the CNI plugins $cni_version"
	t0=$SECONDS
	rm -rf "$cni_dir"
	mkdir -p "$cni_dir"
	pkgs=()
	for p in $cni_plugins; do pkgs+=("github.com/containernetworking/plugins/plugins/$p@$cni_version"); done
	GOBIN=$cni_dir go install -trimpath -ldflags "-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$cni_version" "${pkgs[@]}" >&2
	touch "$cni_dir/.done"
	log "CNI plugins built in $((SECONDS - t0)) s"
fi
echo "CNI_DIR=$cni_dir"

# --- containerd 2.x, its runc shim and ctr, and upstream's unit file ---
# The target OSes ship containerd 2.x (Fedora CoreOS, Flatcar stable); the
# e2e OS image gets these at /usr/bin, where both OSes have them.
ctd_version=${E2E_CONTAINERD_VERSION:-v2.4.2}
ctd_dir=$tools/containerd-$ctd_version
if [[ ! -x $ctd_dir/containerd || ! -x $ctd_dir/containerd-shim-runc-v2 || ! -x $ctd_dir/ctr || ! -f $ctd_dir/containerd.service ]]; then
	log "building containerd $ctd_version"
	t0=$SECONDS
	rm -rf "$ctd_dir.tmp"
	mkdir -p "$ctd_dir.tmp"
	m=github.com/containerd/containerd/v2
	GOBIN=$ctd_dir.tmp go install -trimpath -ldflags "-X $m/version.Version=$ctd_version" "$m/cmd/containerd@$ctd_version" "$m/cmd/containerd-shim-runc-v2@$ctd_version" "$m/cmd/ctr@$ctd_version" >&2
	src=$(go mod download -json "$m@$ctd_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
	cp "$src/containerd.service" "$ctd_dir.tmp/containerd.service"
	chmod 0644 "$ctd_dir.tmp/containerd.service"
	rm -rf "$ctd_dir"
	mv "$ctd_dir.tmp" "$ctd_dir"
	log "containerd built in $((SECONDS - t0)) s"
fi
echo "CONTAINERD_DIR=$ctd_dir"

# --- the image registry (distribution) and CoreDNS ---
# go_install DIR WHAT PKG@VERSION...: build PKGs into DIR unless it holds
# them (a folder is complete or absent: built beside it, then moved).
go_install() {
	local dir=$1 what=$2
	shift 2
	[[ -f $dir/.done ]] && return
	log "building $what"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	GOBIN=$dir.tmp go install -trimpath "$@" >&2
	touch "$dir.tmp/.done"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}
reg_version=${E2E_REGISTRY_VERSION:-v3.1.2}
reg_dir=$tools/registry-$reg_version
go_install "$reg_dir" "the registry (distribution $reg_version)" "github.com/distribution/distribution/v3/cmd/registry@$reg_version"
echo "REGISTRY=$reg_dir/registry"
if [[ -n ${E2E_COREDNS_VERSION:-} ]]; then
	dns_version=v${E2E_COREDNS_VERSION#v}
	dns_dir=$tools/coredns-$dns_version
	go_install "$dns_dir" "CoreDNS $dns_version" "github.com/coredns/coredns@$dns_version"
	echo "COREDNS=$dns_dir/coredns"
fi

# --- Debian packages, unpacked (never installed). ---
# deb_unpack NAME PKG... : download PKGs at their candidate versions into
# $tools/NAME-<version of the first package>/ and print that folder.
deb_unpack() {
	local name=$1
	shift
	local ver
	ver=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if [[ -z $ver || $ver == "(none)" ]]; then
		apt-get update -qq >&2
		ver=$(apt-cache policy "$1" | awk '/Candidate:/ {print $2}')
	fi
	local dir=$tools/$name-$ver
	if [[ ! -f $dir/.done ]]; then
		log "unpacking Debian $* ($ver)"
		rm -rf "$dir"
		mkdir -p "$dir"
		# A folder apt's sandbox user can write (the cache may be under /root).
		local dl
		dl=$(mktemp -d /tmp/kign-e2e-deb.XXXXXX)
		chmod 0755 "$dl"
		chown _apt "$dl" 2>/dev/null || true
		(cd "$dl" && apt-get download -qq "$@" >&2) ||
			{ apt-get update -qq >&2 && (cd "$dl" && apt-get download -qq "$@" >&2); }
		for deb in "$dl"/*.deb; do dpkg -x "$deb" "$dir"; done
		rm -rf "$dl"
		touch "$dir/.done"
	fi
	echo "$dir"
}
nspawn=$(deb_unpack nspawn systemd-container libsystemd-shared)
echo "NSPAWN_DIR=$nspawn"
# runc: Debian's (1.1.5, with seccomp through the machine's libseccomp2;
# kign's static pods ask for the RuntimeDefault profile). containerd's shim
# finds it on PATH.
runc=$(deb_unpack runc runc)
echo "RUNC=$runc/usr/sbin/runc"
# What the host OS image has and this machine lacks, laid over /usr in the
# booted roots (read-only): iptables (nft backend, as on Fedora CoreOS and
# Flatcar) for kube-proxy and flanneld's --ip-masq, and /usr/lib/modules,
# which kube-proxy mounts (this machine's kernel has no modules folder).
extra=$(deb_unpack usr-extra iptables libip4tc2 libip6tc2 libxtables12 libnftnl11 libmnl0 libnetfilter-conntrack3 libnfnetlink0)
if [[ ! -e $extra/usr/sbin/iptables ]]; then
	for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		ln -sf xtables-nft-multi "$extra/usr/sbin/$t"
	done
	mkdir -p "$extra/usr/lib/modules"
fi
echo "USR_EXTRA=$extra/usr"

if ! command -v keepalived >/dev/null; then
	log "keepalived is missing: apt-get install keepalived"
	exit 1
fi
echo "KEEPALIVED=$(command -v keepalived)"

if [[ -n $k8s_pid ]]; then
	pid=$k8s_pid
	k8s_pid=
	if ! wait "$pid"; then
		log "building Kubernetes $k8s_version failed"
		exit 1
	fi
fi
echo "K8S_DIR=$k8s_dir"
echo "K8S_BUILT=$k8s_version"
