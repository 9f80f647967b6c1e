package inventory

import (
	"strings"
	"testing"
)

const (
	ed25519Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f admin@example"
	ecdsaKey   = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)

func TestValidateClusterFields(t *testing.T) {
	runCases(t, []diagCase{
		{name: "every optional field valid", yaml: `
			cluster:
			  name: c1
			  os: flatcar
			  kubernetesVersion: v1.35.7
			  domain: k8s.example.org
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  nodeCIDRMaskSize: 23
			  dnsServiceIP: 10.96.0.53
			  interface: enp4s0f0
			  apiServer:
			    vip: 192.168.1.10
			    port: 443
			    extraSANs: [api.example.com, "*.apps.example.com", 203.0.113.7]
			  sshAuthorizedKeys:
			    - ` + ed25519Key + `
			    - ` + ecdsaKey + `
			  keepalived: {virtualRouterID: 51, password: s3cr3t.x}
			  maxPods: 250
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`},
		{name: "cluster name with capitals", yaml: `
			cluster:
			  name: Prod
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:9: cluster.name: "Prod" is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters); did you mean "prod"?`}},
		{name: "cluster name too long", yaml: `
			cluster:
			  name: ` + strings.Repeat("a", 64) + `
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:9: cluster.name: "` + strings.Repeat("a", 64) + `" is not a DNS-1123 label`}},
		{name: "unsupported os", yaml: withCluster(`os: ubuntu`),
			want: []string{`hosts.yaml:7:7: cluster.os: "ubuntu" is not one of fcos, flatcar$`}},
		{name: "os in capitals", yaml: withCluster(`os: FCOS`),
			want: []string{`hosts.yaml:7:7: cluster.os: "FCOS" is not one of fcos, flatcar (did you mean "fcos"?)$`}},
		{name: "version without v", yaml: withCluster(`kubernetesVersion: 1.36.4`),
			want: []string{`hosts.yaml:7:22: cluster.kubernetesVersion: "1.36.4" is not a Kubernetes version of the form vX.Y.Z (did you mean "v1.36.4"?)$`}},
		{name: "version without patch", yaml: withCluster(`kubernetesVersion: v1.36`),
			want: []string{`hosts.yaml:7:22: cluster.kubernetesVersion: "v1.36" is not a Kubernetes version of the form vX.Y.Z$`}},
		{name: "version not in the catalog", yaml: withCluster(`kubernetesVersion: v1.99.0`),
			want: []string{`hosts.yaml:7:22: cluster.kubernetesVersion: Kubernetes v1.99.0 is not in kign's catalog (supported: v1.36.4, v1.36.3, v1.35.8, v1.35.7)$`}},
		{name: "domain with capitals", yaml: withCluster(`domain: Cluster.Local`),
			want: []string{`hosts.yaml:7:11: cluster.domain: "Cluster.Local" is not a DNS-1123 subdomain`}},
		{name: "domain with an empty label", yaml: withCluster(`domain: cluster..local`),
			want: []string{`hosts.yaml:7:11: cluster.domain: "cluster..local" is not a DNS-1123 subdomain`}},
		{name: "explicit port zero", yaml: withAPIServer(`port: 0`),
			want: []string{`hosts.yaml:6:40: cluster.apiServer.port: port 0 is not in 1..65535$`}},
		{name: "port too large", yaml: withAPIServer(`port: 65536`),
			want: []string{`hosts.yaml:6:40: cluster.apiServer.port: port 65536 is not in 1..65535$`}},
		{name: "port of etcd", yaml: withAPIServer(`port: 2379`),
			want: []string{`hosts.yaml:6:40: cluster.apiServer.port: port 2379 is etcd's client port on every control-plane host; pick another (the default is 6443)$`}},
		{name: "extra SAN with an underscore", yaml: withAPIServer(`extraSANs: [api.example.com, api_2.example.com]`),
			want: []string{`hosts.yaml:6:63: cluster.apiServer.extraSANs[1]: "api_2.example.com" is neither an IPv4 address nor a DNS name (lowercase letters, digits, '-' and '.'; a leading "*." is allowed)$`}},
		{name: "extra SAN that is a bad address", yaml: withAPIServer(`extraSANs: [10.0.0.300]`),
			want: []string{`hosts.yaml:6:46: cluster.apiServer.extraSANs[0]: "10.0.0.300" is neither an IPv4 address nor a DNS name`}},
		{name: "extra SAN that is IPv6", yaml: withAPIServer(`extraSANs: ["fd00::1"]`),
			want: []string{`hosts.yaml:6:46: cluster.apiServer.extraSANs[0]: fd00::1 is an IPv6 address; kign supports IPv4 only for now$`}},
		{name: "extra SAN that is a bare wildcard", yaml: withAPIServer(`extraSANs: ["*"]`),
			want: []string{`hosts.yaml:6:46: cluster.apiServer.extraSANs[0]: "*" is neither an IPv4 address nor a DNS name`}},
		{name: "virtual router id zero", yaml: withCluster(`keepalived: {virtualRouterID: 0}`),
			want: []string{`hosts.yaml:7:33: cluster.keepalived.virtualRouterID: 0 is not a VRRP virtual router id (1..255)$`}},
		{name: "virtual router id too large", yaml: withCluster(`keepalived: {virtualRouterID: 256}`),
			want: []string{`hosts.yaml:7:33: cluster.keepalived.virtualRouterID: 256 is not a VRRP virtual router id (1..255)$`}},
		{name: "VRRP password too long", yaml: withCluster(`keepalived: {password: 123456789}`),
			want: []string{`hosts.yaml:7:26: cluster.keepalived.password: is 9 characters; VRRP PASS authentication uses at most 8 (keepalived ignores the rest)$`}},
		{name: "VRRP password with a space", yaml: withCluster(`keepalived: {password: "a b"}`),
			want: []string{`hosts.yaml:7:26: cluster.keepalived.password: must be printable ASCII without whitespace`}},
		{name: "explicit nodeCIDRMaskSize zero", yaml: withCluster(`nodeCIDRMaskSize: 0`),
			want: []string{`hosts.yaml:7:21: cluster.nodeCIDRMaskSize: 0 is not a prefix length in 1..32$`}},
		{name: "nodeCIDRMaskSize too large", yaml: withCluster(`nodeCIDRMaskSize: 33`),
			want: []string{`hosts.yaml:7:21: cluster.nodeCIDRMaskSize: 33 is not a prefix length in 1..32$`}},
		{name: "negative maxPods", yaml: withCluster(`maxPods: -1`),
			want: []string{`hosts.yaml:7:12: cluster.maxPods: -1 is not a positive number of pods$`}},
		{name: "maxPods above what a node subnet holds", yaml: withCluster(`maxPods: 254`),
			want: []string{`hosts.yaml:7:12: cluster.maxPods: 254 is more than the 253 pod addresses a /24 node subnet holds (cluster.nodeCIDRMaskSize); lower maxPods or shorten nodeCIDRMaskSize$`}},
	})
}

func TestValidateSSHKeys(t *testing.T) {
	key := func(k string) string { return withCluster(`sshAuthorizedKeys: ["` + k + `"]`) }
	runCases(t, []diagCase{
		{name: "ed25519 key", yaml: key(ed25519Key)},
		{name: "ecdsa key", yaml: key(ecdsaKey)},
		{name: "not a key", yaml: key("admin@example"),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: expected an OpenSSH public key such as "ssh-ed25519 AAAA... user@host" (the contents of a .pub file)$`}},
		{name: "unknown key type", yaml: key("ssh-foo AAAA"),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: "ssh-foo" is not an OpenSSH public key type (ssh-ed25519, ssh-rsa, `}},
		{name: "DSA key", yaml: key("ssh-dss AAAAB3NzaC1kc3M= old@example"),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: DSA keys (ssh-dss) are no longer accepted by OpenSSH; use an ssh-ed25519 key$`}},
		{name: "private key", yaml: key("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjE="),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: this is a private key; give the public key (the .pub file) instead$`}},
		{name: "key data not base64", yaml: key("ssh-ed25519 AAAA!!!! admin@example"),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: the key data of this ssh-ed25519 key is not valid base64$`}},
		{name: "key data of another type", yaml: key("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f admin@example"),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: the key data does not hold a ssh-rsa key; was the line cut or edited?$`}},
		{name: "two keys in one entry", yaml: key(`ssh-ed25519 AAAA a\nssh-ed25519 AAAA b`),
			want: []string{`hosts.yaml:7:23: cluster.sshAuthorizedKeys[0]: holds more than one line; give one key per list entry$`}},
	})
}

func TestValidateInterfaceNames(t *testing.T) {
	iface := func(name string) string {
		return `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: "` + name + `"
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`
	}
	runCases(t, []diagCase{
		{name: "valid name", yaml: iface("enp4s0f0.100")},
		{name: "slash", yaml: iface("eth0/1"),
			want: []string{`hosts.yaml:5:14: cluster.interface: interface name "eth0/1" contains '/'; Linux interface names are printable ASCII without whitespace, ':', '/' or '%'$`}},
		{name: "space", yaml: iface("eth 0"),
			want: []string{`hosts.yaml:5:14: cluster.interface: interface name "eth 0" contains ' '`}},
		{name: "too long", yaml: iface("enp4s0f0np0.1234"),
			want: []string{`hosts.yaml:5:14: cluster.interface: interface name "enp4s0f0np0.1234" is 16 characters; Linux allows at most 15$`}},
		{name: "all digits", yaml: iface("42"),
			want: []string{`hosts.yaml:5:14: cluster.interface: interface name "42" is all digits, which systemd reads as an interface index$`}},
		{name: "dot dot", yaml: iface(".."),
			want: []string{`hosts.yaml:5:14: cluster.interface: ".." is not a valid interface name$`}},
	})
}

func TestNullMeansLeftOut(t *testing.T) {
	runCases(t, []diagCase{
		{name: "null port", yaml: withAPIServer(`port: ~`)},
		{name: "null os", yaml: withCluster(`os:`)},
		{name: "null keepalived", yaml: withCluster(`keepalived: null`)},
	})
}
