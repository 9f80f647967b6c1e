package inventory

import "testing"

func TestValidateHardeningFields(t *testing.T) {
	runCases(t, []diagCase{
		{name: "audit and pods on masters valid", yaml: withCluster(`audit: {policy: off, maxAgeDays: 1, maxBackups: 1, maxSizeMB: 1}
		  allowPodsOnMasters: true`)},
		{name: "add-ons valid", yaml: withCluster("maxPods: 110") + "addons: [addons/a.yaml, /srv/b.yml]\n"},
		{name: "unknown audit policy", yaml: withCluster(`audit: {policy: full}`),
			want: []string{`hosts.yaml:7:19: cluster.audit.policy: "full" is not one of default, off`}},
		{name: "zero rotation written out", yaml: withCluster(`audit: {maxAgeDays: 0, maxSizeMB: -5}`),
			want: []string{`hosts.yaml:7:23: cluster.audit.maxAgeDays: 0 is not a positive number`, `hosts.yaml:7:37: cluster.audit.maxSizeMB: -5 is not a positive number`}},
		{name: "YAML 1.1 boolean", yaml: withCluster(`allowPodsOnMasters: yes`),
			want: []string{`hosts.yaml:7:23: cluster.allowPodsOnMasters: must be true or false, not "yes"`}},
		{name: "add-on paths", yaml: withCluster("maxPods: 110") + `addons: ["https://x/a.yaml", a.json, "my addon.yaml", "", .yaml]` + "\n",
			want: []string{
				`hosts.yaml:11:10: addons[0]: "https://x/a.yaml" is a URL`,
				`hosts.yaml:11:30: addons[1]: "a.json" does not name a YAML manifest (expected a path ending in .yaml or .yml)`,
				`hosts.yaml:11:38: addons[2]: "my addon.yaml": the file name goes into a shell loop`,
				`hosts.yaml:11:55: addons[3]: add-on path is empty`,
				`hosts.yaml:11:59: addons[4]: ".yaml" does not name a YAML manifest`,
			}},
	})
}

func TestValidateComponents(t *testing.T) {
	runCases(t, []diagCase{
		{name: "valid customization", yaml: withCluster(`components: {apiServer: {extraArgs: {event-ttl: 2h, profiling: "false", enable-admission-plugins: "NodeRestriction,AlwaysPullImages"}, extraVolumes: [{name: oidc, hostPath: /etc/oidc, mountPath: /etc/oidc, readOnly: true, pathType: Directory}]}, kubelet: {extraArgs: {node-labels: "rack=r1"}}}`)},
		{name: "unknown component", yaml: withCluster(`components: {apiserver: {}}`),
			want: []string{`hosts.yaml:7:16: cluster.components.apiserver: unknown field`}},
		{name: "flags", yaml: withCluster(`components: {apiServer: {extraArgs: {"--v": "2", insecure-port: "8080", etcd-servers: "https://x", feature-gates: "A=true", event-tll: x}}}`),
			want: []string{
				`hosts.yaml:7:47: cluster.components.apiServer.extraArgs.--v: "--v" is not a flag name`,
				`hosts.yaml:7:67: cluster.components.apiServer.extraArgs.insecure-port: --insecure-port is not a flag of kube-apiserver v1.36`,
				`hosts.yaml:7:89: cluster.components.apiServer.extraArgs.etcd-servers: --etcd-servers is set by kign`,
				`hosts.yaml:7:117: cluster.components.apiServer.extraArgs.feature-gates: set feature gates in cluster.featureGates`,
				`hosts.yaml:7:138: cluster.components.apiServer.extraArgs.event-tll: --event-tll is not a flag of kube-apiserver v1.36 (did you mean "event-ttl"?)`,
			}},
		{name: "flags kube-apiserver refuses next to kign's", yaml: withCluster(`components: {apiServer: {extraArgs: {oidc-issuer-url: x, anonymous-auth: "false", authorization-config: /x, enable-admission-plugins: AlwaysPullImages, disable-admission-plugins: NodeRestriction}}}`),
			want: []string{
				`hosts.yaml:7:57: cluster.components.apiServer.extraArgs.oidc-issuer-url: --oidc-issuer-url: kube-apiserver refuses oidc-* flags next to --authentication-config`,
				`hosts.yaml:7:76: cluster.components.apiServer.extraArgs.anonymous-auth: --anonymous-auth: kube-apiserver refuses it next to the anonymous section`,
				`hosts.yaml:7:107: cluster.components.apiServer.extraArgs.authorization-config: --authorization-config: kube-apiserver refuses it next to --authorization-mode`,
				`hosts.yaml:7:137: cluster.components.apiServer.extraArgs.enable-admission-plugins: keep NodeRestriction in the list`,
				`hosts.yaml:7:182: cluster.components.apiServer.extraArgs.disable-admission-plugins: NodeRestriction may not be disabled`,
			}},
		{name: "kubelet config flag and volumes", yaml: withCluster(`components: {kubelet: {extraArgs: {max-pods: "50"}, extraVolumes: [{name: a, hostPath: /a, mountPath: /a}]}}`),
			want: []string{
				`hosts.yaml:7:48: cluster.components.kubelet.extraArgs.max-pods: --max-pods belongs in kubelet's configuration file`,
				`hosts.yaml:7:70: cluster.components.kubelet.extraVolumes[0]: the kubelet runs on the host`,
			}},
		{name: "bad volumes", yaml: withCluster(`components: {etcd: {extraVolumes: [{name: A, hostPath: rel, mountPath: /m, pathType: file}, {name: b, mountPath: /m}]}}`),
			want: []string{
				`hosts.yaml:7:45: cluster.components.etcd.extraVolumes[0].name: "A" is not a DNS-1123 label`,
				`hosts.yaml:7:58: cluster.components.etcd.extraVolumes[0].hostPath: "rel" is not an absolute path`,
				`hosts.yaml:7:88: cluster.components.etcd.extraVolumes[0].pathType: "file" is not one of`,
				`hosts.yaml:7:95: cluster.components.etcd.extraVolumes[1].hostPath: missing`,
			}},
		{name: "unknown feature gate", yaml: withCluster(`featureGates: {InPlacePodVerticalScaling: true, DRAPartitionableDevice: false}`),
			want: []string{`hosts.yaml:7:45: cluster.featureGates.InPlacePodVerticalScaling: "InPlacePodVerticalScaling" is not a feature gate of Kubernetes v1.36`,
				`hosts.yaml:7:75: cluster.featureGates.DRAPartitionableDevice: "DRAPartitionableDevice" is not a feature gate of Kubernetes v1.36 (did you mean "DRAPartitionableDevices"?)`}},
	})
}

func TestValidateComponentConfig(t *testing.T) {
	runCases(t, []diagCase{
		{name: "kubelet and kube-proxy fields", yaml: withCluster(`components: {kubelet: {config: {serializeImagePulls: false, evictionHard: {memory.available: 200Mi}}}, kubeProxy: {config: {ipvs: {scheduler: rr}}}}`)},
		{name: "unknown field", yaml: withCluster(`components: {kubelet: {config: {serializeImagePull: false}}}`),
			want: []string{`hosts.yaml:7:55: cluster.components.kubelet.config.serializeImagePull: not a valid KubeletConfiguration: unknown field "serializeImagePull"`}},
		{name: "wrong type", yaml: withCluster(`components: {kubelet: {config: {serializeImagePulls: "no"}}}`),
			want: []string{`hosts.yaml:7:34: cluster.components.kubelet.config: not a valid KubeletConfiguration: cannot unmarshal string into Go struct field KubeletConfiguration.serializeImagePulls of type bool`}},
		{name: "derived fields", yaml: withCluster(`components: {kubelet: {config: {maxPods: 50, staticPodPath: /x}}, kubeProxy: {config: {clusterCIDR: 10.0.0.0/8}}}`),
			want: []string{
				`hosts.yaml:7:44: cluster.components.kubelet.config.maxPods: kign sets KubeletConfiguration.maxPods from cluster.maxPods`,
				`hosts.yaml:7:63: cluster.components.kubelet.config.staticPodPath: kign sets KubeletConfiguration.staticPodPath`,
				`hosts.yaml:7:103: cluster.components.kubeProxy.config.clusterCIDR: kign sets KubeProxyConfiguration.clusterCIDR from cluster.podCIDR`,
			}},
		{name: "field names are case-sensitive", yaml: withCluster(`components: {kubelet: {config: {registerwithtaints: []}}}`),
			want: []string{`hosts.yaml:7:55: cluster.components.kubelet.config.registerwithtaints: KubeletConfiguration has no field "registerwithtaints": field names are case-sensitive (did you mean "registerWithTaints"?)`}},
		{name: "no config file", yaml: withCluster(`components: {apiServer: {config: {a: b}}}`),
			want: []string{`hosts.yaml:7:36: cluster.components.apiServer.config: the apiServer has no configuration file kign writes; use extraArgs`}},
	})
}

func TestValidateJWTAuthenticators(t *testing.T) {
	runCases(t, []diagCase{
		{name: "an OIDC issuer", yaml: withAPIServer(`authentication: {jwt: [{issuer: {url: "https://id.example.com", audiences: [kubernetes]}, claimMappings: {username: {claim: email, prefix: "oidc:"}, groups: {claim: groups, prefix: "oidc:"}}}]}`)},
		{name: "what kube-apiserver needs", yaml: withAPIServer(`authentication: {jwt: [{issuer: {url: "http://id"}, claimMappings: {}}, {issuer: {url: "http://id", audiences: [a]}, claimMappings: {username: {claim: sub}}}]}`),
			want: []string{
				`hosts.yaml:6:66: cluster.apiServer.authentication.jwt[0].issuer: audiences: lists none`,
				`hosts.yaml:6:72: cluster.apiServer.authentication.jwt[0].issuer.url: "http://id" is not an https:// URL`,
				`hosts.yaml:6:101: cluster.apiServer.authentication.jwt[0].claimMappings: username: set claim or expression`,
				`hosts.yaml:6:121: cluster.apiServer.authentication.jwt[1].issuer.url: "http://id" is not an https:// URL`,
			}},
		{name: "kign's anonymous section and unknown fields", yaml: withAPIServer(`authentication: {anonymous: {enabled: false}, jwts: []}`),
			want: []string{
				`hosts.yaml:6:62: cluster.apiServer.authentication.anonymous: kign sets AuthenticationConfiguration.anonymous`,
				`hosts.yaml:6:86: cluster.apiServer.authentication.jwts: not a valid AuthenticationConfiguration: unknown field "jwts"`,
			}},
	})
}
