#!/usr/bin/env bash
# Writes internal/flagset/data/<component>-<version>.txt from the real
# binaries' --help: one line per flag ("flag NAME", or "config NAME" for a
# kubelet or kube-proxy flag that belongs in its configuration file) and
# per Kubernetes feature gate the binary knows ("gate NAME").
#
#   hack/gen-flagsets.sh DIR KUBE_DIR VERSION      # kube-apiserver, ... of VERSION
#   hack/gen-flagsets.sh DIR ETCD_DIR VERSION etcd  # etcd of VERSION
#
# hack/e2e-run.sh runs it on the binaries it builds and fails when the
# committed tables differ, so they stay the real flag parsers' sets.
set -euo pipefail
out=$1 bindir=$2 version=$3 which=${4:-kube}
mkdir -p "$out"
table() { # BINARY NAME
	"$1" --help 2>&1 | awk '
		/^ *(-[a-zA-Z], )?--[a-z0-9-]+/ {
			name = $1; if (name ~ /^-[a-zA-Z],$/) name = $2
			sub(/^--/, "", name); sub(/=.*/, "", name)
			kind = "flag"
			if ($0 ~ /should be set via the config file specified by the Kubelet|is ignored if a config file is specified by --config/) kind = "config"
			print kind " " name
		}
		match($0, /^ +(kube:)?[A-Z][A-Za-z0-9]+=true\|false/) {
			g = substr($0, RSTART, RLENGTH - 11)
			sub(/^ +/, "", g); sub(/^kube:/, "", g)
			print "gate " g
		}' | sort -u >"$out/$2-$version.txt"
}
if [[ $which == etcd ]]; then
	table "$bindir/etcd" etcd
else
	for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet; do
		table "$bindir/$c" "$c"
	done
fi
