package inventory

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

const allowFlannel = `allowUnverified: [flanneld, flannel-cni-plugin]`

var (
	sum256 = strings.Repeat("ab", 32)
	sum512 = strings.Repeat("cd", 64)
)

func TestValidatePKI(t *testing.T) {
	runCases(t, []diagCase{
		{name: "valid", yaml: topDoc(`pki: {keyAlgorithm: ecdsa, caValidity: 175200h, certValidity: 2160h}`)},
		{name: "unknown key algorithm", yaml: topDoc(`pki: {keyAlgorithm: ed25519}`),
			want: []string{`hosts.yaml:10:21: pki.keyAlgorithm: "ed25519" is not one of rsa, ecdsa$`}},
		{name: "validity in years", yaml: topDoc(`pki: {caValidity: 10y}`),
			want: []string{`hosts.yaml:10:19: pki.caValidity: "10y" is not a Go duration (units h, m, s: e.g. 8760h for a year)$`}},
		{name: "negative validity", yaml: topDoc(`pki: {certValidity: -1h}`),
			want: []string{`hosts.yaml:10:21: pki.certValidity: -1h is not a positive duration$`}},
		{name: "certificates outlive the CA", yaml: topDoc(`pki: {certValidity: 100000h}`),
			want: []string{`hosts.yaml:10:21: pki.certValidity: certificates (certValidity 100000h) would outlive the CA that signs them (caValidity 87600h)$`}},
	})
}

func TestValidateImages(t *testing.T) {
	runCases(t, []diagCase{
		{name: "valid fcos", yaml: topDoc(`images: {stream: testing, version: 42.20250901.3.0, mirror: "https://m.example/fcos"}`)},
		{name: "valid flatcar", yaml: `
			cluster:
			  name: c1
			  os: flatcar
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			images: {stream: lts, version: 4230.2.3}
			`},
		{name: "flatcar stream for fcos", yaml: topDoc(`images: {stream: beta}`),
			want: []string{`hosts.yaml:10:18: images.stream: "beta" is not a fcos stream (stable, testing, next)$`}},
		{name: "version with a space", yaml: topDoc(`images: {version: "42 stable"}`),
			want: []string{`hosts.yaml:10:19: images.version: "42 stable" is not an OS release version`}},
		{name: "mirror not http", yaml: topDoc(`images: {mirror: "ftp://m.example/fcos"}`),
			want: []string{`hosts.yaml:10:18: images.mirror: "ftp://m.example/fcos" is not an http:// or https:// URL$`}},
	})
}

func TestValidateDelivery(t *testing.T) {
	runCases(t, []diagCase{
		{name: "valid", yaml: topDoc(`delivery: {url: "https://10.22.108.5:8443"}`)},
		{name: "no scheme", yaml: topDoc(`delivery: {url: "10.22.108.5:8443"}`),
			want: []string{`hosts.yaml:10:17: delivery.url: "10.22.108.5:8443" is not an http:// or https:// URL$`}},
		{name: "plain http", yaml: topDoc(`delivery: {url: "http://10.22.108.5:8080"}`),
			want: []string{`hosts.yaml:10:17: delivery.url: "http://10.22.108.5:8080" is not an https:// URL: hosts fetch their keys from it`}},
		{name: "bad port", yaml: topDoc(`delivery: {url: "https://10.22.108.5:99999/"}`),
			want: []string{`hosts.yaml:10:17: delivery.url: "https://10.22.108.5:99999/" has an invalid port$`}},
	})
}

func TestValidateArtifacts(t *testing.T) {
	runCases(t, []diagCase{
		{name: "valid", yaml: artifactsDoc(allowFlannel,
			`arch: arm64`,
			`mirror: "https://mirror.example/k8s/"`,
			`imageRegistry: registry.example:5000/k8s`,
			`overrides:`,
			`  kubelet: {url: "https://mirror.example/kubelet", sha512: `+sum512+`}`,
			`  etcd: {sha256: `+sum256+`, image: "registry.example/etcd:3.6.14-0"}`,
			`  pause: {image: "registry.example/pause@sha256:`+sum256+`"}`)},
		{name: "unknown arch", yaml: artifactsDoc(allowFlannel, `arch: x86_64`),
			want: []string{`hosts.yaml:11:9: artifacts.arch: "x86_64" is not one of amd64, arm64$`}},
		{name: "mirror with a query", yaml: artifactsDoc(allowFlannel, `mirror: "https://m.example/k8s?x=1"`),
			want: []string{`hosts.yaml:11:11: artifacts.mirror: "https://m.example/k8s?x=1" has a query or fragment; a mirror is a base URL that file paths are appended to$`}},
		{name: "mirror without a host", yaml: artifactsDoc(allowFlannel, `mirror: "https:///k8s"`),
			want: []string{`hosts.yaml:11:11: artifacts.mirror: "https:///k8s" has no host$`}},
		{name: "registry with a scheme", yaml: artifactsDoc(allowFlannel, `imageRegistry: https://registry.example`),
			want: []string{`hosts.yaml:11:18: artifacts.imageRegistry: "https://registry.example" has a scheme; give the registry as HOST[:PORT][/PATH], e.g. registry.example:5000/k8s$`}},
		{name: "registry path in capitals", yaml: artifactsDoc(allowFlannel, `imageRegistry: registry.example/K8s`),
			want: []string{`hosts.yaml:11:18: artifacts.imageRegistry: "registry.example/K8s" has an invalid repository path component "K8s"`}},
		{name: "override of an unknown artifact", yaml: artifactsDoc(allowFlannel, `overrides: {kubelt: {sha256: `+sum256+`}}`),
			want: []string{`hosts.yaml:11:23: artifacts.overrides.kubelt: "kubelt" is not an artifact in kign's catalog (did you mean "kubelet"?) (artifacts: kubelet, kubectl, cni-plugins, etcd, flanneld, flannel-cni-plugin, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, pause, keepalived, coredns)$`}},
		{name: "short sha256", yaml: artifactsDoc(`allowUnverified: [flannel-cni-plugin]`, `overrides: {flanneld: {sha256: abc}}`),
			want: []string{`hosts.yaml:11:34: artifacts.overrides.flanneld.sha256: is not a SHA-256 sum (64 hex digits, as sha256sum prints)$`}},
		{name: "sha512 that is not hex", yaml: artifactsDoc(allowFlannel, `overrides: {etcd: {sha512: `+strings.Repeat("zz", 64)+`}}`),
			want: []string{`hosts.yaml:11:30: artifacts.overrides.etcd.sha512: is not a SHA-512 sum (128 hex digits, as sha512sum prints)$`}},
		{name: "override URL not http", yaml: artifactsDoc(allowFlannel, `overrides: {kubelet: {url: "file:///srv/kubelet"}}`),
			want: []string{`hosts.yaml:11:30: artifacts.overrides.kubelet.url: "file:///srv/kubelet" is not an http:// or https:// URL$`}},
		{name: "image override of a file", yaml: artifactsDoc(allowFlannel, `overrides: {kubelet: {image: "registry.example/kubelet:v1"}}`),
			want: []string{`hosts.yaml:11:32: artifacts.overrides.kubelet.image: kubelet is a downloaded file, not a container image: set url, sha256 or sha512$`}},
		{name: "URL override of an image", yaml: artifactsDoc(allowFlannel, `overrides: {kube-apiserver: {url: "https://m.example/a"}}`),
			want: []string{`hosts.yaml:11:31: artifacts.overrides.kube-apiserver: kube-apiserver is a container image: only image applies (url, sha256 and sha512 are for downloaded files)$`}},
		{name: "image reference in capitals", yaml: artifactsDoc(allowFlannel, `overrides: {pause: {image: "registry.example/Pause:3.10"}}`),
			want: []string{`hosts.yaml:11:30: artifacts.overrides.pause.image: "registry.example/Pause:3.10" is not a container image reference (invalid repository name; e.g. registry.example/k8s/pause:3.10)$`}},
		{name: "allowUnverified names an unknown file", yaml: artifactsDoc(`allowUnverified: [flanneld, flannel-cni-plugin, kubelets]`),
			want: []string{`hosts.yaml:10:51: artifacts.allowUnverified[2]: "kubelets" is not a downloaded file in kign's catalog (did you mean "kubelet"?) (files: kubelet, kubectl, cni-plugins, etcd, flanneld, flannel-cni-plugin)$`}},
		{name: "allowUnverified names an image", yaml: artifactsDoc(`allowUnverified: [flanneld, flannel-cni-plugin, pause]`),
			want: []string{`hosts.yaml:10:51: artifacts.allowUnverified[2]: "pause" is a container image; allowUnverified lists downloaded files (kubelet, kubectl, cni-plugins, etcd, flanneld, flannel-cni-plugin)$`}},
	})
}

func TestValidateUnverifiedArtifacts(t *testing.T) {
	runCases(t, []diagCase{
		{name: "no artifacts section", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			`, want: []string{
			"hosts.yaml: artifacts: flanneld v0.28.4 (https://github.com/flannel-io/flannel/releases/download/v0.28.4/flanneld-amd64) has no hash (no line: the download is in kign's catalog): run `kign artifacts lock --hosts hosts.yaml` to download it once and record its sha256 and sha512 in hosts.lock (or pin one with artifacts.overrides.flanneld.sha256, or list it in artifacts.allowUnverified to download it unverified)$",
			"hosts.yaml: artifacts: flannel-cni-plugin v1.7.1-flannel1 (https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel1/flannel-amd64) has no hash (no line: the download is in kign's catalog): run `kign artifacts lock",
		}},
		{name: "artifacts section without allowUnverified", yaml: artifactsDoc(`arch: arm64`), want: []string{
			`hosts.yaml:10:3: artifacts: flanneld v0.28.4 (https://github.com/flannel-io/flannel/releases/download/v0.28.4/flanneld-arm64) has no hash: run`,
			`hosts.yaml:10:3: artifacts: flannel-cni-plugin v1.7.1-flannel1 (https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel1/flannel-arm64) has no hash: run`,
		}},
		{name: "one of two allowed", yaml: artifactsDoc(`allowUnverified: [flanneld]`),
			want: []string{`hosts.yaml:10:20: artifacts.allowUnverified: flannel-cni-plugin v1.7.1-flannel1 (https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel1/flannel-amd64) has no hash: run`}},
		{name: "pinned by an override", yaml: artifactsDoc(`allowUnverified: [flanneld]`, `overrides: {flannel-cni-plugin: {sha256: `+sum256+`}}`)},
		{name: "not checked for a version kign lacks", yaml: `
			cluster:
			  name: c1
			  kubernetesVersion: v1.99.0
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			`, want: []string{`hosts.yaml:3:22: cluster.kubernetesVersion: Kubernetes v1.99.0 is not in kign's catalog`}},
	})
}

// testCertPEM is a fresh self-signed certificate (a CA if isCA) as PEM,
// written as one YAML double-quoted string.
func testCertPEM(t *testing.T, isCA bool) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "registry CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Quote(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

func TestValidateRegistryCA(t *testing.T) {
	ca, leaf := testCertPEM(t, true), testCertPEM(t, false)
	runCases(t, []diagCase{
		{name: "valid", yaml: artifactsDoc(allowFlannel, `imageRegistry: registry.example:5000`, `imageRegistryCA: `+ca)},
		{name: "without a registry", yaml: artifactsDoc(allowFlannel, `imageRegistryCA: `+ca),
			want: []string{`hosts.yaml:11:20: artifacts.imageRegistryCA: is set without artifacts.imageRegistry: the CA is trusted for that registry only$`}},
		{name: "not PEM", yaml: artifactsDoc(allowFlannel, `imageRegistry: registry.example`, `imageRegistryCA: "MIIB..."`),
			want: []string{`hosts.yaml:12:20: artifacts.imageRegistryCA: is not PEM: give the registry CA's certificate(s) as -----BEGIN CERTIFICATE----- blocks$`}},
		{name: "a key", yaml: artifactsDoc(allowFlannel, `imageRegistry: registry.example`, `imageRegistryCA: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"`),
			want: []string{`hosts.yaml:12:20: artifacts.imageRegistryCA: holds a PEM "PRIVATE KEY" block; only CERTIFICATE blocks belong here (never a key)$`}},
		{name: "not a CA", yaml: artifactsDoc(allowFlannel, `imageRegistry: registry.example`, `imageRegistryCA: `+leaf),
			want: []string{`hosts.yaml:12:20: artifacts.imageRegistryCA: certificate 1 (CN=registry CA) is not a CA certificate: give the CA that signed the registry's certificate$`}},
	})
}

func TestEffectiveRegistry(t *testing.T) {
	ca := testCertPEM(t, true)
	inv, rep := Parse("hosts.yaml", []byte(dedent(artifactsDoc(allowFlannel, `imageRegistry: registry.example:5000/k8s/`, `imageRegistryCA: `+ca))))
	if rep.HasErrors() || inv.Effective == nil {
		t.Fatalf("%s", rep.String())
	}
	want, _ := strconv.Unquote(ca)
	if got := inv.Effective.Registry; got.Host != "registry.example:5000" || got.CA != want {
		t.Errorf("Registry = %+v, want host registry.example:5000 and the CA", got)
	}
}
