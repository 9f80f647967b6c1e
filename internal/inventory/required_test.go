package inventory

import "testing"

func TestParseRequired(t *testing.T) {
	runCases(t, []diagCase{
		{name: "missing cluster", yaml: `
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:1:1: cluster: missing required field "cluster"`}},
		{name: "missing cluster name", yaml: `
			cluster:
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:3: cluster.name: missing required field "name" (e.g. name: prod)`}},
		{name: "missing service CIDR", yaml: `
			cluster:
			  name: c1
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:3: cluster.serviceCIDR: missing required field "serviceCIDR" (e.g. serviceCIDR: 10.96.0.0/12)`}},
		{name: "missing pod CIDR", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:3: cluster.podCIDR: missing required field "podCIDR"`}},
		{name: "missing apiServer", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:3: cluster.apiServer: missing required field "apiServer"`}},
		{name: "missing VIP", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {port: 443}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:6:14: cluster.apiServer.vip: missing required field "vip"`}},
		{name: "missing hosts", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:1:1: hosts: missing required field "hosts"`}},
		{name: "missing host name", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			  - ip: 192.168.1.12
			  - {name: m2, ip: 192.168.1.13}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:9:5: hosts[1].name: missing required field "name" (e.g. name: master0)`}},
		{name: "missing host ip", yaml: `
			cluster:
			  name: c1
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - name: m0
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:8:5: hosts[0].ip: missing required field "ip"`}},
		{name: "required field is null", yaml: `
			cluster:
			  name:
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:8: cluster.name: must not be empty`}},
		{name: "required field is an empty string", yaml: `
			cluster:
			  name: ""
			  serviceCIDR: 10.96.0.0/12
			  podCIDR: 10.244.0.0/16
			  interface: eth0
			  apiServer: {vip: 192.168.1.10}
			hosts:
			  - {name: m0, ip: 192.168.1.11}
			artifacts: {allowUnverified: [flanneld, flannel-cni-plugin]}
			`, want: []string{`hosts.yaml:2:9: cluster.name: must not be empty`}},
	})
}
