package inventory

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const seedPath = "../../examples/seed/hosts.yaml"

func TestLoadSeedExample(t *testing.T) {
	inv, rep := Load(seedPath)
	if len(rep.Diagnostics) != 0 {
		t.Fatalf("seed example: want no diagnostics, got:\n%s", rep)
	}
	if inv == nil || inv.File != seedPath || len(inv.Hosts) != 3 || inv.Cluster.Name != "seed" {
		t.Fatalf("seed example decoded wrongly: %+v", inv)
	}
	for path, want := range map[string]string{
		"cluster.apiServer.vip":        seedPath + ":27:10",
		"hosts[1]":                     seedPath + ":36:5",
		"hosts[1].ip":                  seedPath + ":37:9",
		"artifacts.allowUnverified[1]": seedPath + ":44:31",
	} {
		if got := inv.Positions[path].String(); got != want {
			t.Errorf("Positions[%q] = %s, want %s", path, got, want)
		}
	}
}

func TestParseReportsEveryProblemSorted(t *testing.T) {
	_, rep := Parse("hosts.yaml", []byte(dedent(`
		cluster:
		  name: Prod_1
		  serviceCidr: 10.96.0.0/12
		  podCIDR: 10.244.0.5/16
		  apiServer:
		    vip: 192.168.1.11
		    port: https
		  maxPods: -5
		hosts:
		  - {name: m0, ip: 192.168.1.11, mac: "52:54:00:zz:00:01"}
		  - {name: m0, ip: 192.168.1.12}
		artifacts: {allowUnverified: [flanneld]}
		pki: {keyAlgorithm: dsa}
		`)))
	assertDiagnostics(t, rep, []string{
		`hosts.yaml:2:9: cluster.name: "Prod_1" is not a DNS-1123 label`,
		`hosts.yaml:3:3: cluster.serviceCidr: unknown field "serviceCidr" (did you mean "serviceCIDR"?)`,
		`hosts.yaml:4:12: cluster.podCIDR: 10.244.0.5/16 has host bits set; did you mean 10.244.0.0/16?`,
		`hosts.yaml:6:10: cluster.apiServer.vip: 192.168.1.11 is also hosts[0].ip (line 10)`,
		`hosts.yaml:7:11: cluster.apiServer.port: must be an integer, not "https"`,
		`hosts.yaml:8:12: cluster.maxPods: -5 is not a positive number of pods`,
		`hosts.yaml:10:3: warning: hosts: etcd quorum gains nothing from an even member count: 2 hosts`,
		`hosts.yaml:10:5: hosts[0].interface: no network interface`,
		`hosts.yaml:10:39: hosts[0].mac: "52:54:00:zz:00:01" is not a MAC address`,
		`hosts.yaml:11:5: hosts[1].interface: no network interface`,
		`hosts.yaml:11:12: hosts[1].name: name "m0" is also used by hosts[0] at line 10`,
		`hosts.yaml:12:30: artifacts.allowUnverified: flannel-cni-plugin v1.7.1-flannel1 (https://github.com/flannel-io/cni-plugin/releases/download/v1.7.1-flannel1/flannel-amd64) has no hash: run`,
		`hosts.yaml:13:21: pki.keyAlgorithm: "dsa" is not one of rsa, ecdsa`,
	})
	if got, want := len(rep.Errors()), 12; got != want {
		t.Errorf("%d errors, want %d", got, want)
	}
}

// Validate works on an inventory built in code: no positions, and a zero
// integer means "left out".
func TestValidateInventoryBuiltInCode(t *testing.T) {
	inv := &Inventory{
		File: "generated.yaml",
		Cluster: Cluster{
			Name: "c1", ServiceCIDR: "10.96.0.0/12", PodCIDR: "10.244.0.0/16", Interface: "eth0",
			APIServer: APIServer{Port: 0},
		},
		Hosts:     []Host{{Name: "m0", IP: "192.168.1.11"}, {Name: "m1"}, {Name: "m2", IP: "192.168.1.13"}},
		Artifacts: Artifacts{AllowUnverified: []string{"flanneld", "flannel-cni-plugin"}},
	}
	assertDiagnostics(t, Validate(inv), []string{
		`generated.yaml: cluster.apiServer.vip: missing required field "vip" (e.g. vip: 192.168.1.10)$`,
		`generated.yaml: hosts[1].ip: missing required field "ip" (e.g. ip: 192.168.1.11)$`,
	})
}

// Every field of the schema decodes, and has a position: the decoder
// covers every kind of field types.go uses.
func TestDecodeEveryField(t *testing.T) {
	inv, rep := Parse("hosts.yaml", []byte(dedent(`
		cluster:
		  name: c1
		  os: fcos
		  kubernetesVersion: v1.36.3
		  domain: cluster.local
		  serviceCIDR: 10.96.0.0/12
		  podCIDR: 10.244.0.0/16
		  nodeCIDRMaskSize: 24
		  dnsServiceIP: 10.96.0.10
		  interface: eth0
		  apiServer: {vip: 192.168.1.10, port: 6443, extraSANs: [api.example.com], authentication: {jwt: [{issuer: {url: "https://id.example.com", audiences: [k8s]}, claimMappings: {username: {claim: email, prefix: ""}}}]}}
		  sshAuthorizedKeys: ["`+ed25519Key+`"]
		  keepalived: {virtualRouterID: 7, password: abcdefgh}
		  maxPods: 100
		  installDisk: /dev/disk/by-id/wwn-0x5000c500a0b1c2d3
		  network: {prefixLength: 24, gateway: 192.168.1.1, dns: [192.168.1.2]}
		  updates: {strategy: windows, window: {days: [Sat], start: "03:00", length: 1h}}
		  audit: {policy: default, maxAgeDays: 7, maxBackups: 3, maxSizeMB: 50}
		  allowPodsOnMasters: true
		  featureGates: {InPlacePodVerticalScalingInitContainers: true}
		  components:
		    etcd: {extraArgs: {quota-backend-bytes: "8589934592"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}]}
		    apiServer: {extraArgs: {profiling: "false"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}]}
		    controllerManager: {extraArgs: {profiling: "false"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}]}
		    scheduler: {extraArgs: {profiling: "false"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}]}
		    kubeProxy: {extraArgs: {v: "2"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}], config: {conntrack: {maxPerCore: 0}}}
		    kubelet: {extraArgs: {v: "2"}, config: {serializeImagePulls: false, evictionHard: {memory.available: 200Mi}}}
		    keepalived: {extraArgs: {vrrp: "1"}, extraVolumes: [{name: v, hostPath: /srv/x, mountPath: /x, readOnly: true, pathType: Directory}]}
		hosts:
		  - name: m0
		    ip: 192.168.1.11
		    interface: eno1
		    mac: "52:54:00:12:34:56"
		    overlays: [m0.bu]
		    installDisk: /dev/vda
		    network: {address: 192.168.1.11/24, gateway: 192.168.1.1, dns: [192.168.1.3]}
		    updateWindow: {days: [Sun], start: "04:00", length: 30m}
		pki: {keyAlgorithm: ecdsa, caValidity: 87600h, certValidity: 8760h}
		artifacts:
		  arch: amd64
		  mirror: https://mirror.example/
		  imageRegistry: registry.example
		  imageRegistryCA: `+testCertPEM(t, true)+`
		  overrides:
		    etcd: {url: "https://mirror.example/etcd.tgz", sha256: `+sum256+`, sha512: `+sum512+`, image: "registry.example/etcd:3.6.14-0"}
		  allowUnverified: [flanneld, flannel-cni-plugin]
		images: {stream: stable, version: 42.20250901.3.0, mirror: "https://mirror.example/fcos"}
		delivery: {url: "https://10.22.108.5:8443", boot: install}
		overlays: [common.bu]
		addons: [addons/metrics.yaml]
		`)))
	assertDiagnostics(t, rep, nil)
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		if path == "cluster.components.kubelet.extraVolumes" {
			return // the kubelet takes none (TestValidateComponents)
		}
		if c, ok := strings.CutPrefix(path, "cluster.components."); ok && strings.HasSuffix(c, ".config") &&
			!slices.Contains(ConfigFileComponents(), strings.TrimSuffix(c, ".config")) {
			return // only the kubelet and kube-proxy have a config file
		}
		if _, ok := inv.Positions[path]; !ok && path != "" {
			t.Errorf("%s: no position", path)
		}
		switch v.Kind() {
		case reflect.Struct:
			for _, f := range fieldsOf(v.Type()) {
				walk(v.Field(f.index), join(path, f.name))
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("%s: empty", path)
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Map:
			if v.Len() == 0 {
				t.Errorf("%s: empty", path)
			}
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k), join(path, k.String()))
			}
		default:
			if v.IsZero() {
				t.Errorf("%s: not decoded", path)
			}
		}
	}
	walk(reflect.ValueOf(inv).Elem(), "")
}
