#!/usr/bin/env bash
# build-ignition.sh [VERSION] — build the real Ignition binary that kign's
# delivery tests run (the pointer-config fetch through `kign serve`).
#
# Debian's ignition package (2.14) only accepts spec <= 3.3, so the binary is
# built from the Go module proxy at the version kign's go.mod pins, so the
# validator kign links and the applier the tests run agree.
#
# Output: ${KIGN_TOOLS:-$HOME/.cache/kign-tools}/ignition-<version>/ignition
# (printed on stdout). Idempotent: an existing binary is reused.
# Needs gcc and libblkid-dev (cgo); libblkid-dev is apt-installed if missing.
# Cold build: about 4 minutes, under 1 GB of memory.
#
# Use:  export KIGN_IGNITION=$(hack/build-ignition.sh)
#       go test ./internal/delivery/ -run TestPointerWithRealIgnition
set -euo pipefail

version=${1:-v2.26.0}
case $version in v*) ;; *) version=v$version ;; esac
tools=${KIGN_TOOLS:-$HOME/.cache/kign-tools}
dir=$tools/ignition-$version
bin=$dir/ignition

if [[ -x $bin ]] && "$bin" -version 2>/dev/null | grep -q -- "$version"; then
	echo "$bin"
	exit 0
fi

if ! command -v gcc >/dev/null; then
	echo "build-ignition.sh: gcc is required (apt-get install gcc)" >&2
	exit 1
fi
if ! dpkg -s libblkid-dev >/dev/null 2>&1; then
	echo "build-ignition.sh: installing libblkid-dev" >&2
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	$sudo apt-get install -y -qq libblkid-dev >&2 ||
		{ $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq libblkid-dev >&2; }
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Variable paths checked in ignition v2.26.0's source:
#   internal/version/version.go: var Raw
#   internal/distro/distro.go:   var selinuxRelabel (no relabel outside a real initramfs)
pkg=github.com/coreos/ignition/v2
CGO_ENABLED=1 GOBIN=$tmp GOFLAGS=-mod=mod go install \
	-ldflags "-X $pkg/internal/version.Raw=$version -X $pkg/internal/distro.selinuxRelabel=false" \
	"$pkg/internal@$version" >&2

# The binary is named after its package (internal); Ignition picks its mode
# from argv[0], so it must be called ignition.
mv "$tmp/internal" "$tmp/ignition"
mv "$tmp/ignition" "$bin"
"$bin" -version >&2
echo "$bin"
