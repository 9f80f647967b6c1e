package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// podStatus is one static pod's container as the kubelet reports it.
type podStatus struct {
	Pod        string
	State      string // running, waiting, terminated, or pending (no container yet)
	Reason     string
	Message    string
	Restarts   int
	Started    bool
	Ready      bool
	ProbeError string
	LastExit   *struct {
		Code   int
		Reason string
	}
}

func (s podStatus) healthy() bool {
	return s.State == "running" && s.Started && s.Ready
}

func (s podStatus) String() string {
	b := fmt.Sprintf("%s: %s", s.Pod, s.State)
	if s.Reason != "" {
		b += " (" + s.Reason + ")"
	}
	b += fmt.Sprintf(" started=%v ready=%v restarts=%d", s.Started, s.Ready, s.Restarts)
	if s.LastExit != nil {
		b += fmt.Sprintf(" lastExit=%d/%s", s.LastExit.Code, s.LastExit.Reason)
	}
	if s.Message != "" {
		b += " message=" + strconv.Quote(s.Message)
	}
	return b
}

// kubeletHTTP reads the kubelets' /pods (set by generate): the
// apiserver's kubelet client credential, the kubelets' serving
// certificates verified against the cluster CA, from the hub namespace.
var kubeletHTTP *http.Client

func newKubeletHTTP(pkiDir, hubNS string) (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "apiserver-kubelet-client.crt"), filepath.Join(pkiDir, "apiserver-kubelet-client.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s/ca.crt: no certificate", pkiDir)
	}
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext:     dialerIn(nsPath(hubNS)),
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}}, nil
}

// podStatuses reads h's static pods from its kubelet's /pods (which
// reports them with the status the kubelet holds, also while no apiserver
// answers), by the manifest's pod name (the kubelet appends the node's).
// The kubelet authorizes the request through the apiserver (its cache
// holds an answer for 5 minutes); when it cannot, the map is empty.
func podStatuses(h *host) map[string]podStatus {
	out, _ := kubeletPods(h)
	return out
}

// kubeletPods is podStatuses with the error of the kubelet's answer.
func kubeletPods(h *host) (map[string]podStatus, error) {
	out := map[string]podStatus{}
	if kubeletHTTP == nil {
		return out, fmt.Errorf("no kubelet client yet")
	}
	resp, err := kubeletHTTP.Get("https://" + net.JoinHostPort(h.ip.String(), "10250") + "/pods")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: GET /pods: %s", h.name, resp.Status)
	}
	var pods corev1.PodList
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&pods); err != nil {
		return out, err
	}
	for _, p := range pods.Items {
		if p.Annotations["kubernetes.io/config.source"] != "file" {
			continue
		}
		name := strings.TrimSuffix(p.Name, "-"+p.Spec.NodeName)
		s := podStatus{Pod: name, State: "pending"}
		if len(p.Status.ContainerStatuses) > 0 {
			cs := p.Status.ContainerStatuses[0]
			s.Restarts, s.Ready = int(cs.RestartCount), cs.Ready
			s.Started = cs.Started != nil && *cs.Started
			switch {
			case cs.State.Running != nil:
				s.State = "running"
			case cs.State.Waiting != nil:
				s.State, s.Reason, s.Message = "waiting", cs.State.Waiting.Reason, cs.State.Waiting.Message
			case cs.State.Terminated != nil:
				s.State, s.Reason, s.Message = "terminated", cs.State.Terminated.Reason, cs.State.Terminated.Message
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				s.LastExit = &struct {
					Code   int
					Reason string
				}{int(t.ExitCode), t.Reason}
			}
		}
		out[name] = s
	}
	return out, nil
}

// podLog returns the last n lines of a static pod's container logs on h
// (the kubelet's files under /var/log/pods).
//
// The files are ordered by modification time, newest last: a container's
// files are named by its restart count (0.log, 1.log ... 10.log), which
// sorts wrongly as text, and a pod that returned under its old UID may
// still hold an earlier pod's files. Each file's lines come under its own
// name.
func podLog(h *host, pod string, n int) string {
	dir := filepath.Join(h.root, "var/log/pods")
	files, _ := filepath.Glob(filepath.Join(dir, "kube-system_"+pod+"-"+h.name+"_*", "*", "*.log"))
	mtime := map[string]time.Time{}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			mtime[f] = fi.ModTime()
		}
	}
	sort.SliceStable(files, func(i, j int) bool {
		if !mtime[files[i]].Equal(mtime[files[j]]) {
			return mtime[files[i]].Before(mtime[files[j]])
		}
		return files[i] < files[j]
	})
	var b strings.Builder
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(&b, "== %s ==\n", rel)
		if t := tailFile(f, n); t != "" {
			b.WriteString(t + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// lastLogLine is the last line podLog would show (the newest file's), or "".
func lastLogLine(h *host, pod string) string {
	l := podLog(h, pod, 1)
	if i := strings.LastIndex(l, "\n"); i >= 0 {
		l = l[i+1:]
	}
	if strings.HasPrefix(l, "== ") {
		return ""
	}
	return l
}

// manifestNames lists the static pods of h's config (files in the root's
// manifest folder, as Ignition wrote them).
func manifestNames(h *host, dir string) []string {
	entries, _ := os.ReadDir(filepath.Join(h.root, dir))
	var out []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())))
		}
	}
	sort.Strings(out)
	return out
}

// adminClient is a client built from out/admin.kubeconfig as it is, with
// certificate verification on; only its network is the hub namespace's.
type adminClient struct {
	cs   *kubernetes.Clientset
	http *http.Client // for /readyz with the same credentials
	host string
}

func newAdminClient(kubeconfig, hubNS string) (*adminClient, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	if cfg.Insecure {
		return nil, fmt.Errorf("%s disables certificate verification", kubeconfig)
	}
	cfg.Dial = dialerIn(nsPath(hubNS))
	cfg.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &adminClient{cs: cs, host: cfg.Host}, nil
}

// readyz reads /readyz through the VIP with the admin credentials.
func (a *adminClient) readyz(ctx context.Context) error {
	body, err := a.cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("GET %s/readyz: %w", a.host, err)
	}
	if strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("GET %s/readyz: %q", a.host, body)
	}
	return nil
}

// writeRead creates a ConfigMap through the VIP, reads it back and deletes it.
func (a *adminClient) writeRead(ctx context.Context, name string) error {
	cms := a.cs.CoreV1().ConfigMaps("default")
	want := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/created-by": "kign-e2e"}},
		Data:       map[string]string{"written": time.Now().UTC().Format(time.RFC3339Nano)},
	}
	if _, err := cms.Create(ctx, want, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create configmap %s: %w", name, err)
	}
	got, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get configmap %s: %w", name, err)
	}
	if got.Data["written"] != want.Data["written"] {
		return fmt.Errorf("configmap %s: read %v, wrote %v", name, got.Data, want.Data)
	}
	return cms.Delete(ctx, name, metav1.DeleteOptions{})
}

// leaseHolder returns the holder of a kube-system lease if it is fresh.
func (a *adminClient) leaseHolder(ctx context.Context, name string) (string, error) {
	l, err := a.cs.CoordinationV1().Leases("kube-system").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return "", fmt.Errorf("lease %s has no holder", name)
	}
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return "", fmt.Errorf("lease %s has no renew time", name)
	}
	if age := time.Since(l.Spec.RenewTime.Time); age > time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second {
		return "", fmt.Errorf("lease %s held by %s was last renewed %s ago", name, *l.Spec.HolderIdentity, age.Round(time.Second))
	}
	return *l.Spec.HolderIdentity, nil
}

// caFromKubeconfig returns the cluster CA the admin kubeconfig trusts.
func caFromKubeconfig(kubeconfig string) (*x509.CertPool, error) {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range cfg.Clusters {
		if !pool.AppendCertsFromPEM(c.CertificateAuthorityData) {
			return nil, fmt.Errorf("%s: no CA data", kubeconfig)
		}
	}
	return pool, nil
}

// apiserverReadyz reads https://IP:PORT/readyz anonymously from the hub,
// verifying the serving certificate against the cluster CA for that IP.
func apiserverReadyz(ctx context.Context, hubNS string, ca *x509.CertPool, ip netip.Addr, port int) error {
	c := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DialContext:       dialerIn(nsPath(hubNS)),
			TLSClientConfig:   &tls.Config{RootCAs: ca},
			DisableKeepAlives: true,
		},
	}
	u := "https://" + net.JoinHostPort(ip.String(), strconv.Itoa(port)) + "/readyz"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("GET %s: HTTP %d %q", u, resp.StatusCode, tail(string(body), 5))
	}
	return nil
}

// etcdctl runs the etcdctl that etcdctl-install.service unpacked on h,
// with the health-check client certificate kign put there.
func etcdctl(ctx context.Context, h *host, endpoints []string, args ...string) (string, error) {
	return etcdctlAs(ctx, h, healthcheckCert, endpoints, args...)
}

// Client certificates of the etcd CA on every master, without extension.
const (
	healthcheckCert   = "/etc/kubernetes/pki/etcd/healthcheck-client"
	flannelCert       = "/etc/kubernetes/pki/etcd/flannel-client"
	apiserverEtcdCert = "/etc/kubernetes/pki/apiserver-etcd-client"
	etcdPeerCert      = "/etc/kubernetes/pki/etcd/peer"
)

// etcdctlAs runs h's etcdctl with the client certificate cert (.crt, .key).
func etcdctlAs(ctx context.Context, h *host, cert string, endpoints []string, args ...string) (string, error) {
	argv := append([]string{h.etcdctlBin,
		"--endpoints=" + strings.Join(endpoints, ","),
		"--cacert=/etc/kubernetes/pki/etcd/ca.crt",
		"--cert=" + cert + ".crt",
		"--key=" + cert + ".key",
		"--dial-timeout=3s", "--command-timeout=5s"}, args...)
	return inContainer(ctx, h, argv...)
}

type etcdHealth struct {
	Endpoint string `json:"endpoint"`
	Health   bool   `json:"health"`
	Error    string `json:"error"`
}

// etcdHealthy returns the members' health, asked from host via.
func etcdHealthy(ctx context.Context, via *host, endpoints []string) ([]etcdHealth, error) {
	out, err := etcdctl(ctx, via, endpoints, "endpoint", "health", "-w", "json")
	var hs []etcdHealth
	if jerr := json.Unmarshal([]byte(jsonPart(out)), &hs); jerr != nil {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("etcdctl endpoint health: %v: %s", jerr, out)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Endpoint < hs[j].Endpoint })
	return hs, nil
}

// unhealthy is the endpoints of hs that are not healthy, in order.
func unhealthy(hs []etcdHealth) []string {
	var out []string
	for _, h := range hs {
		if !h.Health {
			out = append(out, h.Endpoint)
		}
	}
	return out
}

type etcdStatus struct {
	Endpoint string `json:"Endpoint"`
	Status   struct {
		Header struct {
			MemberID uint64 `json:"member_id"`
		} `json:"header"`
		Leader uint64 `json:"leader"`
	} `json:"Status"`
}

type etcdMembers struct {
	Members []struct {
		ID         uint64   `json:"ID"`
		Name       string   `json:"name"`
		PeerURLs   []string `json:"peerURLs"`
		ClientURLs []string `json:"clientURLs"`
		IsLearner  bool     `json:"isLearner"`
	} `json:"members"`
}

// jsonPart returns etcdctl's JSON answer from its combined output: the
// last line that is a JSON array or object and not one of its log lines.
func jsonPart(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[") || strings.HasPrefix(l, "{") && !strings.Contains(l, `"level":`) {
			return l
		}
	}
	return s
}
