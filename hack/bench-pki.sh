#!/bin/sh
# bench-pki: kign's cold certificate set against the key-generation lower
# bound and the seed guide's ten cfssl CLI steps, side by side (issue 3).
# Installs the cfssl CLI v1.6.5 into a cache folder on first use.
#
#   hack/bench-pki.sh [-rounds N] [-keys N]      (make bench-pki)
set -eu
cd "$(dirname "$0")/.."
bin="${KIGN_BENCH_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/kign/bench/bin}"
if [ ! -x "$bin/cfssl" ] || [ ! -x "$bin/cfssljson" ]; then
	echo "bench-pki: installing the cfssl CLI v1.6.5 into $bin" >&2
	mkdir -p "$bin"
	GOBIN="$bin" go install github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5 github.com/cloudflare/cfssl/cmd/cfssljson@v1.6.5
fi
# Build first, so compile time is not measured and nothing else runs meanwhile.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bench-pki" ./internal/pki/bench
"$tmp/bench-pki" -cfssl-bin "$bin" "$@"
