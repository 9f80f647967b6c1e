package render

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kign-project/kign/internal/catalog"
	"github.com/kign-project/kign/internal/plan"
)

// Manifest is one static pod, named as its file in ManifestsDir (Name + ".yaml").
type Manifest struct {
	Name string
	Pod  *corev1.Pod
}

// StaticPods returns the static pods of host h, in a fixed order: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy and
// keepalived. Each container's Command is the binary followed by its flags,
// runnable verbatim; every file a flag names is mounted at the same path.
func StaticPods(p *plan.Plan, h plan.Host) ([]Manifest, error) {
	if h.Name == "" || !h.IP.Is4() {
		return nil, fmt.Errorf("host %q: needs a name and an IPv4 address", h.Name)
	}
	builders := []struct {
		name  string
		build func(*plan.Plan, plan.Host) (*corev1.Pod, error)
	}{
		{"etcd", etcdPod},
		{"kube-apiserver", apiserverPod},
		{"kube-controller-manager", controllerManagerPod},
		{"kube-scheduler", schedulerPod},
		{"kube-proxy", proxyPod},
		{"keepalived", keepalivedPod},
	}
	out := make([]Manifest, 0, len(builders))
	for _, b := range builders {
		pod, err := b.build(p, h)
		if err == nil {
			err = customizePod(p, b.name, pod)
		}
		if err != nil {
			return nil, fmt.Errorf("static pod %q: %w", b.name, err)
		}
		out = append(out, Manifest{Name: b.name, Pod: pod})
	}
	return out, nil
}

// MarshalPod renders a pod as YAML. The output is deterministic: the pod
// holds only slices in a fixed order, and map keys are sorted.
func MarshalPod(pod *corev1.Pod) ([]byte, error) {
	if pod == nil {
		return nil, fmt.Errorf("no pod")
	}
	return marshalYAML(pod)
}

// FlagPaths returns every absolute path that a container's command or args
// name as a flag value (--x=/path) or as an element of a comma-separated
// flag value, in order of appearance. Tests use it to check each one is mounted.
func FlagPaths(pod *corev1.Pod) []string {
	var out []string
	for _, c := range pod.Spec.Containers {
		for _, a := range append(slices.Clone(c.Command), c.Args...) {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			_, v, ok := strings.Cut(a, "=")
			if !ok {
				continue
			}
			for _, e := range strings.Split(v, ",") {
				if strings.HasPrefix(e, "/") {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// etcdPod follows kubeadm's stacked etcd (cmd/kubeadm/app/phases/etcd/local.go)
// for etcd 3.6, with the whole initial cluster known up front.
func etcdPod(p *plan.Plan, h plan.Host) (*corev1.Pod, error) {
	client := "https://" + netip.AddrPortFrom(h.IP, EtcdClientPort).String()
	peer := "https://" + netip.AddrPortFrom(h.IP, EtcdPeerPort).String()
	if !strings.Contains(","+p.EtcdInitialCluster+",", ","+h.Name+"="+peer+",") {
		return nil, fmt.Errorf("initial cluster %q does not name %s=%s", p.EtcdInitialCluster, h.Name, peer)
	}
	cmd := commandLine("etcd", cmdFlags{
		{"name", h.Name},
		{"data-dir", EtcdDataDir},
		{"advertise-client-urls", client},
		{"listen-client-urls", fmt.Sprintf("https://127.0.0.1:%d,%s", EtcdClientPort, client)},
		{"listen-peer-urls", peer},
		{"initial-advertise-peer-urls", peer},
		{"initial-cluster", p.EtcdInitialCluster},
		{"initial-cluster-token", p.EtcdToken},
		// Ignored once the data dir holds a member: a reboot rejoins.
		{"initial-cluster-state", "new"},
		{"cert-file", EtcdServerCert},
		{"key-file", EtcdServerKey},
		{"trusted-ca-file", EtcdCACert},
		{"client-cert-auth", "true"},
		{"peer-cert-file", EtcdPeerCert},
		{"peer-key-file", EtcdPeerKey},
		{"peer-trusted-ca-file", EtcdCACert},
		{"peer-client-cert-auth", "true"},
		{"listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", EtcdMetricsPort)},
		// As kubeadm for etcd 3.6: these replace the --experimental-* flags
		// of 3.5. kubeadm's --snapshot-count=10000 is left out: it is 3.6's
		// default and the flag is deprecated in 3.6.
		{"feature-gates", "InitialCorruptCheck=true"},
		{"watch-progress-notify-interval", "5s"},
	})
	vols := hostMounts{
		{EtcdDataDir, corev1.HostPathDirectoryOrCreate, false},
		{EtcdCACert, corev1.HostPathFile, true},
		{EtcdServerCert, corev1.HostPathFile, true},
		{EtcdServerKey, corev1.HostPathFile, true},
		{EtcdPeerCert, corev1.HostPathFile, true},
		{EtcdPeerKey, corev1.HostPathFile, true},
	}
	// The probe endpoints for etcd 3.6 are explained in kubernetes/kubeadm#3039.
	c := corev1.Container{
		Command:        cmd,
		LivenessProbe:  livenessProbe(corev1.URISchemeHTTP, "/livez", EtcdMetricsPort),
		ReadinessProbe: readinessProbe(corev1.URISchemeHTTP, "/readyz", EtcdMetricsPort),
		StartupProbe:   startupProbe(corev1.URISchemeHTTP, "/readyz", EtcdMetricsPort),
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("100m"),
			corev1.ResourceMemory: resource.MustParse("100Mi"),
		}},
	}
	return controlPlanePod(p, "etcd", catalog.ImageEtcd, c, vols)
}

// apiserverPod follows kubeadm's getAPIServerCommand
// (cmd/kubeadm/app/phases/controlplane/manifests.go), with every etcd member
// in --etcd-servers so that losing the local member is tolerated.
func apiserverPod(p *plan.Plan, h plan.Host) (*corev1.Pod, error) {
	if len(p.EtcdClientEndpoints) == 0 {
		return nil, fmt.Errorf("plan has no etcd client endpoints")
	}
	cmd := commandLine("kube-apiserver", append(cmdFlags{
		{"advertise-address", h.IP.String()},
		{"encryption-provider-config", EncryptionConfigFile},
		{"secure-port", strconv.Itoa(p.APIServerPort)},
		{"allow-privileged", "true"},
		{"authorization-mode", "Node,RBAC"},
		{"enable-admission-plugins", "NodeRestriction"},
		// Anonymous requests reach only the health endpoints. The file's
		// "anonymous" section and --anonymous-auth are mutually exclusive
		// (kube-apiserver refuses to start), so the flag is never passed.
		{"authentication-config", AuthenticationConfigFile},
		{"client-ca-file", CACert},
		{"tls-cert-file", APIServerCert},
		{"tls-private-key-file", APIServerKey},
		{"etcd-servers", strings.Join(p.EtcdClientEndpoints, ",")},
		{"etcd-cafile", EtcdCACert},
		{"etcd-certfile", APIServerEtcdClientCert},
		{"etcd-keyfile", APIServerEtcdClientKey},
		{"kubelet-client-certificate", APIServerKubeletClientCert},
		{"kubelet-client-key", APIServerKubeletClientKey},
		// Verify each kubelet's serving certificate (kign issues it from the
		// cluster CA with the host's IP, which the apiserver dials first).
		// "By default, the apiserver does not verify the kubelet's serving
		// certificate ... use the --kubelet-certificate-authority flag"
		// (kubernetes.io/docs/concepts/architecture/control-plane-node-communication).
		{"kubelet-certificate-authority", CACert},
		{"kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname"},
		{"proxy-client-cert-file", FrontProxyClientCert},
		{"proxy-client-key-file", FrontProxyClientKey},
		{"requestheader-client-ca-file", FrontProxyCACert},
		{"requestheader-allowed-names", "front-proxy-client"},
		{"requestheader-username-headers", "X-Remote-User"},
		{"requestheader-group-headers", "X-Remote-Group"},
		{"requestheader-extra-headers-prefix", "X-Remote-Extra-"},
		{"service-account-issuer", "https://kubernetes.default.svc." + p.Domain},
		{"service-account-key-file", ServiceAccountPublicKey},
		{"service-account-signing-key-file", ServiceAccountPrivateKey},
		{"service-cluster-ip-range", p.ServiceCIDR.String()},
		// On SIGTERM /readyz fails at once but requests are served for this
		// long, so keepalived moves the VIP away before the apiserver stops
		// listening (README "HA timing").
		{"shutdown-delay-duration", ShutdownDelay.String()},
		// Then drain and exit in seconds: without it the HTTP server's
		// shutdown waits up to --request-timeout (60 s) for connections that
		// hold watches, past the kubelet's 30 s grace period, and the
		// apiserver is killed (k8s.io/apiserver pkg/server/genericapiserver.go,
		// RunWithContext: ShutdownSendRetryAfter sets the shutdown timeout
		// to 2 s). Requests that arrive meanwhile get 429 with Retry-After
		// and Connection: close, which client-go retries (k8s.io/client-go
		// rest/request.go: GETs are retried on a connection reset, an EOF or
		// a lost HTTP/2 connection, isErrRetryableFunc).
		{"shutdown-send-retry-after", "true"},
	}, auditFlags(p)...))
	vols := hostMounts{
		{AuthenticationConfigFile, corev1.HostPathFile, true},
		{EncryptionConfigFile, corev1.HostPathFile, true},
		{CACert, corev1.HostPathFile, true},
		{APIServerCert, corev1.HostPathFile, true},
		{APIServerKey, corev1.HostPathFile, true},
		{EtcdCACert, corev1.HostPathFile, true},
		{APIServerEtcdClientCert, corev1.HostPathFile, true},
		{APIServerEtcdClientKey, corev1.HostPathFile, true},
		{APIServerKubeletClientCert, corev1.HostPathFile, true},
		{APIServerKubeletClientKey, corev1.HostPathFile, true},
		{FrontProxyCACert, corev1.HostPathFile, true},
		{FrontProxyClientCert, corev1.HostPathFile, true},
		{FrontProxyClientKey, corev1.HostPathFile, true},
		{ServiceAccountPublicKey, corev1.HostPathFile, true},
		{ServiceAccountPrivateKey, corev1.HostPathFile, true},
	}
	if p.Audit.Enabled {
		vols = append(vols,
			hostMount{AuditPolicyFile, corev1.HostPathFile, true},
			hostMount{AuditLogDir, corev1.HostPathDirectoryOrCreate, false})
	}
	port := p.APIServerPort
	c := corev1.Container{
		Command:        cmd,
		LivenessProbe:  livenessProbe(corev1.URISchemeHTTPS, "/livez", port),
		ReadinessProbe: readinessProbe(corev1.URISchemeHTTPS, "/readyz", port),
		StartupProbe:   startupProbe(corev1.URISchemeHTTPS, "/livez", port),
		Resources:      cpuRequest("250m"),
	}
	return controlPlanePod(p, "kube-apiserver", catalog.ImageAPIServer, c, vols)
}

// controllerManagerPod follows kubeadm's getControllerManagerCommand. It
// talks to the local apiserver through controller-manager.conf and signs
// kubelet CSRs with the cluster CA.
func controllerManagerPod(p *plan.Plan, _ plan.Host) (*corev1.Pod, error) {
	cmd := commandLine("kube-controller-manager", cmdFlags{
		{"kubeconfig", ControllerManagerKubeconfig},
		{"authentication-kubeconfig", ControllerManagerKubeconfig},
		{"authorization-kubeconfig", ControllerManagerKubeconfig},
		{"bind-address", "127.0.0.1"},
		{"leader-elect", "true"},
		// flanneld leases each node's subnet in etcd (etcd mode, see
		// README "flannel"), not from Node.spec.podCIDR: the
		// controller-manager must not hand out subnets of its own, which
		// would differ from flannel's and mislead anything that reads them.
		// So no --cluster-cidr or --node-cidr-mask-size either.
		{"allocate-node-cidrs", "false"},
		{"service-cluster-ip-range", p.ServiceCIDR.String()},
		{"cluster-name", p.ClusterName},
		{"cluster-signing-cert-file", CACert},
		{"cluster-signing-key-file", CAKey},
		{"root-ca-file", CACert},
		{"client-ca-file", CACert},
		{"requestheader-client-ca-file", FrontProxyCACert},
		{"service-account-private-key-file", ServiceAccountPrivateKey},
		{"use-service-account-credentials", "true"},
		{"controllers", "*,bootstrapsigner,tokencleaner"},
	})
	vols := hostMounts{
		{ControllerManagerKubeconfig, corev1.HostPathFile, true},
		{CACert, corev1.HostPathFile, true},
		{CAKey, corev1.HostPathFile, true},
		{FrontProxyCACert, corev1.HostPathFile, true},
		{ServiceAccountPrivateKey, corev1.HostPathFile, true},
	}
	// The controller-manager serves only /healthz for probes: its /livez and
	// /readyz are still in review (kubernetes/kubernetes#134869).
	c := corev1.Container{
		Command:       cmd,
		LivenessProbe: livenessProbe(corev1.URISchemeHTTPS, "/healthz", ControllerManagerPort),
		StartupProbe:  startupProbe(corev1.URISchemeHTTPS, "/healthz", ControllerManagerPort),
		Resources:     cpuRequest("200m"),
	}
	return controlPlanePod(p, "kube-controller-manager", catalog.ImageControllerManager, c, vols)
}

// schedulerPod follows kubeadm's getSchedulerCommand; probes use /livez and
// /readyz since kubeadm 1.32 (kubernetes/kubernetes#126945).
func schedulerPod(p *plan.Plan, _ plan.Host) (*corev1.Pod, error) {
	cmd := commandLine("kube-scheduler", cmdFlags{
		{"kubeconfig", SchedulerKubeconfig},
		{"authentication-kubeconfig", SchedulerKubeconfig},
		{"authorization-kubeconfig", SchedulerKubeconfig},
		{"bind-address", "127.0.0.1"},
		{"leader-elect", "true"},
	})
	vols := hostMounts{{SchedulerKubeconfig, corev1.HostPathFile, true}}
	c := corev1.Container{
		Command:        cmd,
		LivenessProbe:  livenessProbe(corev1.URISchemeHTTPS, "/livez", SchedulerPort),
		ReadinessProbe: readinessProbe(corev1.URISchemeHTTPS, "/readyz", SchedulerPort),
		StartupProbe:   startupProbe(corev1.URISchemeHTTPS, "/livez", SchedulerPort),
		Resources:      cpuRequest("100m"),
	}
	return controlPlanePod(p, "kube-scheduler", catalog.ImageScheduler, c, vols)
}

// controlPlanePod wraps one container the way kubeadm's staticpod.ComponentPod
// does (cmd/kubeadm/app/util/staticpod/utils.go): kube-system, host network,
// system-node-critical, RuntimeDefault seccomp, component/tier labels.
func controlPlanePod(p *plan.Plan, name, image string, c corev1.Container, m hostMounts) (*corev1.Pod, error) {
	pod, err := staticPod(p, name, image, c, m)
	if err != nil {
		return nil, err
	}
	pod.Labels["tier"] = "control-plane"
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	pod.Spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	return pod, nil
}

// systemNodeCritical is the priority of the system-node-critical class.
// Static pods bypass API admission, which would fill it in from the class
// name, so it is set as kubeadm's ComponentPod sets it.
const systemNodeCritical = int32(2000001000)

// staticPod builds the pod common to every static pod kign writes.
func staticPod(p *plan.Plan, name, image string, c corev1.Container, m hostMounts) (*corev1.Pod, error) {
	im, ok := p.Artifacts.Image(image)
	if !ok || im.Ref == "" {
		return nil, fmt.Errorf("image %q is not in the artifact set", image)
	}
	vols, vms, err := m.volumes()
	if err != nil {
		return nil, err
	}
	c.Name = name
	c.Image = im.Ref
	c.ImagePullPolicy = corev1.PullIfNotPresent
	c.VolumeMounts = vms
	prio := systemNodeCritical
	var sc *corev1.PodSecurityContext
	if p.OS.SELinux {
		// Every static pod reads host files through hostPath volumes
		// (certificates, keys, kubeconfigs, etcd's data, /lib/modules), which
		// SELinux labels for the host (etc_t, cert_t, var_lib_t, ...), not
		// container_file_t, so a container_t process may not read them.
		// kops runs such pods as spc_t ("super privileged container", which
		// may use any host file: pkg/kubemanifest/selinux.go
		// AddHostPathSELinuxContext) on SELinux hosts; kign does the same
		// rather than relabelling host folders as typhoon does
		// (chcon -t container_file_t /etc/kubernetes/pki), which would not
		// cover etcd's data, /lib/modules or the xtables lock, and which
		// every later file kign or an operator writes would have to repeat.
		sc = &corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t", Level: "s0"}}
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: metav1.NamespaceSystem,
			Labels:    map[string]string{"component": name},
		},
		Spec: corev1.PodSpec{
			Containers:        []corev1.Container{c},
			HostNetwork:       true,
			PriorityClassName: "system-node-critical",
			Priority:          &prio,
			SecurityContext:   sc,
			Volumes:           vols,
		},
	}, nil
}

// cmdFlag is one --name=value flag.
type cmdFlag struct {
	name, value string
}

type cmdFlags []cmdFlag

// commandLine renders binary and its flags sorted by name, as kubeadm's
// ArgumentsToCommand does, so the output does not depend on source order.
func commandLine(binary string, fs cmdFlags) []string {
	return append([]string{binary}, fs.args()...)
}

func (fs cmdFlags) args() []string {
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b cmdFlag) int { return strings.Compare(a.name, b.name) })
	out := make([]string, 0, len(sorted))
	for _, f := range sorted {
		if f.value == bareValue {
			out = append(out, "--"+f.name)
			continue
		}
		out = append(out, "--"+f.name+"="+f.value)
	}
	return out
}

// hostMount is one hostPath volume, mounted at the same path inside the container.
type hostMount struct {
	path     string
	kind     corev1.HostPathType
	readOnly bool
}

type hostMounts []hostMount

// volumes returns the volumes and mounts sorted by name. A volume's name is
// derived from its path, so two paths cannot silently share a name.
func (ms hostMounts) volumes() ([]corev1.Volume, []corev1.VolumeMount, error) {
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b hostMount) int { return strings.Compare(volumeName(a.path), volumeName(b.path)) })
	var vols []corev1.Volume
	var vms []corev1.VolumeMount
	for i, m := range sorted {
		name := volumeName(m.path)
		if i > 0 && name == volumeName(sorted[i-1].path) {
			return nil, nil, fmt.Errorf("volumes %q and %q share the name %q", sorted[i-1].path, m.path, name)
		}
		kind := m.kind
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: m.path, Type: &kind},
		}})
		vms = append(vms, corev1.VolumeMount{Name: name, MountPath: m.path, ReadOnly: m.readOnly})
	}
	return vols, vms, nil
}

// volumeName turns /etc/kubernetes/pki/ca.crt into etc-kubernetes-pki-ca-crt.
func volumeName(path string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(strings.Trim(path, "/")) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

func cpuRequest(cpu string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
}

// Probe timings are kubeadm's (cmd/kubeadm/app/util/staticpod/utils.go):
// liveness skips one period, readiness starts at once, and the startup probe
// allows the 4-minute control-plane health-check timeout of kubeadm v1beta4.
func livenessProbe(scheme corev1.URIScheme, path string, port int) *corev1.Probe {
	return httpProbe(scheme, path, port, 10, 15, 8, 10)
}

func readinessProbe(scheme corev1.URIScheme, path string, port int) *corev1.Probe {
	return httpProbe(scheme, path, port, 0, 15, 3, 1)
}

func startupProbe(scheme corev1.URIScheme, path string, port int) *corev1.Probe {
	return httpProbe(scheme, path, port, 10, 15, 24, 10)
}

// httpProbe probes 127.0.0.1: every static pod shares the host's network.
func httpProbe(scheme corev1.URIScheme, path string, port int, initialDelay, timeout, failures, period int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Host: "127.0.0.1", Path: path, Port: intstr.FromInt32(int32(port)), Scheme: scheme,
		}},
		InitialDelaySeconds: initialDelay,
		TimeoutSeconds:      timeout,
		FailureThreshold:    failures,
		PeriodSeconds:       period,
	}
}
