#!/usr/bin/env bash
# bench-peers: kign's cold generation of the seed example's three masters
# against kubeadm's init phases (certs, kubeconfigs, control-plane and etcd
# manifests) for the same three hosts sharing one CA set, with RSA-2048 and
# ECDSA P-256, next to the key-generation floor (issue 15).
#
#   hack/bench-peers.sh [-rounds N]      (make bench-peers)
#
# kubeadm is built from the module proxy at the Kubernetes version the
# end-to-end test builds for the catalog's default (v1.36.4 → v1.36.3),
# into the same cache (hack/e2e-tools.sh; minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/kign ./cmd/kign
version=$(bin/kign artifacts --hosts examples/seed/hosts.yaml | awk '/^# Kubernetes/ {sub(/,$/, "", $3); print $3; exit}')
etcd=$(bin/kign artifacts --hosts examples/seed/hosts.yaml | awk '$1 == "file" && $2 == "etcd" {print $3; exit}')
out=$(K8S_EXTRA_CMDS=kubeadm hack/e2e-tools.sh "${version:-v1.36.4}" "${etcd:-v3.6.14}")
k8s_dir=$(sed -n 's/^K8S_DIR=//p' <<<"$out")
built=$(sed -n 's/^K8S_BUILT=//p' <<<"$out")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/peers" ./internal/bench/peers
"$tmp/peers" -kign bin/kign -kubeadm "$k8s_dir/kubeadm" -kubernetes-version "$built" "$@"
