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

// podStatus is podrun's per-container status (e2e/podrun Status).
type podStatus struct {
	Manifest   string `json:"manifest"`
	Pod        string `json:"pod"`
	Container  string `json:"container"`
	State      string `json:"state"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
	Restarts   int    `json:"restarts"`
	Started    bool   `json:"started"`
	Live       bool   `json:"live"`
	Ready      bool   `json:"ready"`
	ProbeError string `json:"probeError"`
	LastExit   *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"lastExit"`
}

func (s podStatus) healthy() bool {
	return s.State == "running" && s.Started && s.Live && s.Ready
}

func (s podStatus) String() string {
	b := fmt.Sprintf("%s: %s", s.Pod, s.State)
	if s.Reason != "" {
		b += " (" + s.Reason + ")"
	}
	b += fmt.Sprintf(" started=%v live=%v ready=%v restarts=%d", s.Started, s.Live, s.Ready, s.Restarts)
	if s.LastExit != nil {
		b += fmt.Sprintf(" lastExit=%d/%s", s.LastExit.Code, s.LastExit.Reason)
	}
	if s.Message != "" {
		b += " message=" + strconv.Quote(s.Message)
	}
	if s.ProbeError != "" && !s.healthy() {
		b += " probe=" + strconv.Quote(s.ProbeError)
	}
	return b
}

// podStatuses reads podrun's statuses of h, by pod name.
func podStatuses(h *host) map[string]podStatus {
	out := map[string]podStatus{}
	files, _ := filepath.Glob(filepath.Join(h.state, "status", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var s podStatus
		if json.Unmarshal(data, &s) == nil {
			out[s.Pod] = s
		}
	}
	return out
}

// podLog returns the last n lines of a static pod's output on h.
func podLog(h *host, pod string, n int) string {
	files, _ := filepath.Glob(filepath.Join(h.state, "logs", pod+".*.log"))
	var b strings.Builder
	for _, f := range files {
		b.WriteString(tailFile(f, n))
	}
	return b.String()
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
