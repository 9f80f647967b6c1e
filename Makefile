# kign — see README.md.
GO        ?= go
BIN       ?= bin/kign
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
LDFLAGS   := -X github.com/kign-project/kign/internal/cli.Version=$(VERSION)
# Test tools (real Ignition, ...) are cached here, keyed by version.
export KIGN_TOOLS ?= $(HOME)/.cache/kign-tools
IGNITION_VERSION ?= v2.26.0
export KIGN_IGNITION ?= $(KIGN_TOOLS)/ignition-$(IGNITION_VERSION)/ignition

.PHONY: all build example test test-tools unit fuzz bench-pki bench-gen bench-serve bench-peers golden schema vet fmt clean e2e e2e-boot

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kign

# The main job on the bundled example: build kign, then generate the seed
# cluster's configs into out/seed (PKI in examples/seed/pki).
example: build
	./$(BIN) validate --hosts examples/seed/hosts.yaml
	./$(BIN) gen --hosts examples/seed/hosts.yaml -o out/seed --emit-butane

# Tools the tests run for real: Ignition built from the module proxy.
test-tools:
	hack/build-ignition.sh $(IGNITION_VERSION)

# Every test, with the real tools. This is what CI runs.
test: test-tools
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) test -count=1 ./...

# End-to-end: real Ignition, systemd-nspawn, etcd, the Kubernetes control
# plane, keepalived and flanneld in network namespaces (root; see e2e/README.md).
# make e2e HOSTS="examples/seed/hosts.yaml examples/five/hosts.yaml"
HOSTS ?= examples/seed/hosts.yaml
e2e: build
	KIGN=$(BIN) hack/e2e-run.sh $(E2E_FLAGS) $(HOSTS)

# The QEMU boot lane alone: one host PXE-boots through iPXE into the test OS,
# installs to a virtual disk and boots it, then boots again with only its
# pointer config in fw_cfg (e2e/README.md, "The boot lane").
e2e-boot: build
	KIGN=$(BIN) hack/e2e-run.sh --boot-only $(HOSTS)

unit:
	$(GO) test ./...

FUZZTIME ?= 4m
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./internal/inventory

bench-pki:
	hack/bench-pki.sh

# A boot storm: 200 hosts fetch their configs from kign serve over new TLS
# connections, next to a plain net/http file server (README "kign serve").
bench-serve:
	$(GO) test -run='^$$' -bench=BootStorm -benchtime=5x ./internal/serve

# kign's cold generation against kubeadm's init phases for the same three
# masters, RSA and ECDSA (builds kubeadm into the e2e tool cache).
bench-peers:
	hack/bench-peers.sh

# Warm generation, with the Go default GC and with the CLI's (cmd/kign sets
# GOGC=400), then the PXE initrd wrap (xz) of one seed config on its own.
bench-gen:
	GOGC=100 $(GO) test -run='^$$' -bench=. -benchmem -benchtime=20x ./internal/gen
	GOGC=400 $(GO) test -run='^$$' -bench=. -benchmem -benchtime=20x ./internal/gen
	$(GO) test -run='^$$' -bench=Wrap -benchmem ./internal/delivery

# Refresh golden files after a reviewed change.
golden:
	$(GO) test ./internal/gen -run TestGolden -update

# Regenerate schema/hosts.schema.json from the inventory types.
schema:
	$(GO) test ./internal/inventory -run TestSchemaUpToDate -update-schema

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
