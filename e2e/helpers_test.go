package e2e

import (
	"encoding/json"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vincent-petithory/dataurl"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Tests of the harness's pure helpers; they need no root and run with
// `go test ./...` in e2e/ (hack/e2e.sh runs them first).

func TestTestSubnet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []string
		want  string
	}{
		{"seed", []string{"10.22.108.250", "10.22.108.20", "10.22.108.79", "10.22.108.92"}, "10.22.108.0/24"},
		{"five", []string{"192.168.40.10", "192.168.40.21", "192.168.40.25"}, "192.168.40.0/24"},
		{"two /24s", []string{"10.0.0.1", "10.0.1.1"}, "10.0.0.0/23"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var as []netip.Addr
			for _, a := range tc.addrs {
				as = append(as, netip.MustParseAddr(a))
			}
			got, err := testSubnet(as)
			if err != nil || got.String() != tc.want {
				t.Fatalf("testSubnet(%v) = %v, %v; want %s", tc.addrs, got, err, tc.want)
			}
		})
	}
}

func TestFreeAddr(t *testing.T) {
	p := netip.MustParsePrefix("10.22.108.0/24")
	got, err := freeAddr(p, []netip.Addr{netip.MustParseAddr("10.22.108.254")})
	if err != nil || got.String() != "10.22.108.253" {
		t.Fatalf("freeAddr = %v, %v; want 10.22.108.253 (254 is taken, 255 is broadcast)", got, err)
	}
}

func TestFlagValue(t *testing.T) {
	unit := "ExecStart=/opt/bin/kubelet \\\n  --config=/var/lib/kubelet/config.yaml \\\n  --node-ip=10.0.0.1\n"
	if got := flagValue(unit, "config"); got != "/var/lib/kubelet/config.yaml" {
		t.Fatalf("flagValue(config) = %q", got)
	}
	if got := flagValue(unit, "kubeconfig"); got != "" {
		t.Fatalf("flagValue(kubeconfig) = %q, want none", got)
	}
}

func TestJSONPart(t *testing.T) {
	out := `{"level":"warn","msg":"retrying"}
[{"endpoint":"https://10.0.0.1:2379","health":true}]
Error: unhealthy cluster`
	if got := jsonPart(out); !strings.HasPrefix(got, `[{"endpoint"`) {
		t.Fatalf("jsonPart = %q", got)
	}
}

func TestWriteInventoryCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.yaml")
	os.WriteFile(src, []byte("# keep me\ncluster:\n  name: x\nartifacts:\n  mirror: http://old\n  allowUnverified: [flanneld]\n"), 0o644)
	dst := filepath.Join(dir, "out.yaml")
	if err := writeInventoryCopy(src, dst, "http://10.0.0.9:8080/kign", map[string]string{"kubelet": "ab", "etcd": "cd"}, []string{"kubelet", "etcd"}, "", nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dst)
	var v struct {
		Artifacts struct {
			Mirror          string
			AllowUnverified []string `json:"allowUnverified"`
			Overrides       map[string]map[string]string
		}
	}
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if v.Artifacts.Mirror != "http://10.0.0.9:8080/kign" || v.Artifacts.Overrides["etcd"]["sha256"] != "cd" || len(v.Artifacts.AllowUnverified) != 1 {
		t.Fatalf("copy is wrong:\n%s", data)
	}
	if !strings.Contains(string(data), "# keep me") {
		t.Fatalf("comments lost:\n%s", data)
	}
}

func TestWriteVariant(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.yaml")
	os.WriteFile(src, []byte("cluster:\n  name: x\n  kubernetesVersion: v1.36.4\nhosts:\n  - name: a\n    ip: 10.0.0.1\n    mac: \"b8:ca:3a:6e:00:11\"\n    disk: /dev/sda\naddons: [a.yaml]\n"), 0o644)
	dst := filepath.Join(dir, "out.yaml")
	if err := writeVariant(src, dst, "v1.35.8", &hostInfo{name: "b", ip: netip.MustParseAddr("10.0.0.2")}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dst)
	var v struct {
		Cluster struct {
			KubernetesVersion string `json:"kubernetesVersion"`
		}
		Hosts  []map[string]string
		Addons []string
	}
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "b", "ip": "10.0.0.2", "disk": "/dev/sda"}
	if v.Cluster.KubernetesVersion != "v1.35.8" || len(v.Hosts) != 2 || !maps.Equal(v.Hosts[1], want) || v.Addons[0] != filepath.Join(dir, "a.yaml") {
		t.Fatalf("variant is wrong:\n%s", data)
	}
}

// TestDropMount checks the harness's own fault: the mount and the volume
// of one path are gone from the manifest, the rest is unchanged.
func TestDropMount(t *testing.T) {
	file := corev1.HostPathFile
	pod := corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "kube-apiserver", VolumeMounts: []corev1.VolumeMount{{Name: "a", MountPath: "/a"}, {Name: "b", MountPath: "/b"}}}},
		Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/a", Type: &file}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/b", Type: &file}}},
		},
	}}
	manifest, _ := yaml.Marshal(&pod)
	ign, _ := json.Marshal(map[string]any{"ignition": map[string]any{"version": "3.5.0"}, "storage": map[string]any{"files": []any{
		map[string]any{"path": "/etc/kubernetes/manifests/kube-apiserver.yaml", "contents": map[string]any{"source": dataurl.New(manifest, "text/plain").String()}},
	}}})
	out, err := editManifest(ign, "kube-apiserver", func(p *corev1.Pod) error { return dropMount(p, "/a") })
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Storage struct {
			Files []struct {
				Contents struct{ Source string }
			}
		}
	}
	json.Unmarshal(out, &cfg)
	du, err := dataurl.DecodeString(cfg.Storage.Files[0].Contents.Source)
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	yaml.Unmarshal(du.Data, &got)
	if m := got.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].MountPath != "/b" || len(got.Spec.Volumes) != 1 {
		t.Fatalf("dropMount left %+v", got.Spec)
	}
	if _, err := editManifest(ign, "kube-apiserver", func(p *corev1.Pod) error { return dropMount(p, "/nope") }); err == nil {
		t.Fatal("dropMount of an unmounted path succeeded")
	}
}

func TestExecBinary(t *testing.T) {
	unit := "[Service]\nExecStartPre=/usr/bin/mkdir -p /x\nExecStart=/usr/local/bin/kubelet \\\n  --config=/var/lib/kubelet/config.yaml\n"
	if got := execBinary(unit); got != "/usr/local/bin/kubelet" {
		t.Fatalf("execBinary = %q", got)
	}
}

func TestExecStart(t *testing.T) {
	unit := "[Service]\nExecStartPre=/usr/bin/mkdir -p /x\nExecStart=/usr/local/bin/kubelet \\\n  --config=/var/lib/kubelet/config.yaml \\\n  --node-ip=10.0.0.1\nRestart=always\n"
	if got, want := execStart(unit), "/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml --node-ip=10.0.0.1"; got != want {
		t.Fatalf("execStart = %q, want %q", got, want)
	}
}

func TestImageTag(t *testing.T) {
	for ref, want := range map[string]string{
		"10.0.0.9:5000/coredns/coredns:v1.14.2": "v1.14.2",
		"registry.k8s.io/etcd:3.6.14-0":         "3.6.14-0",
		"10.0.0.9:5000/pause":                   "",
	} {
		if got := imageTag(ref); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestRegistryConfig(t *testing.T) {
	data, err := yaml.Marshal(registryConfig("/r/data", "10.0.0.9:5000", "/r/c.crt", "/r/c.key"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version string
		Storage struct {
			Filesystem struct{ Rootdirectory string }
		}
		HTTP struct {
			Addr string
			TLS  struct{ Certificate, Key string }
		} `json:"http"`
	}
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "0.1" || got.Storage.Filesystem.Rootdirectory != "/r/data" || got.HTTP.Addr != "10.0.0.9:5000" || got.HTTP.TLS.Certificate != "/r/c.crt" || got.HTTP.TLS.Key != "/r/c.key" {
		t.Fatalf("registry config:\n%s", data)
	}
}

func TestAnsweredByPod(t *testing.T) {
	pods := []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "netcheck-a"}}}
	if !answeredByPod("http://x/ netcheck-a\n", "http://x/", pods) {
		t.Error("the pod's answer was not recognised")
	}
	if answeredByPod("http://x/ other\nhttp://y/ netcheck-a\n", "http://x/", pods) {
		t.Error("an answer from no netcheck pod was accepted")
	}
}

func TestIPXEFiles(t *testing.T) {
	script := "#!ipxe\nkernel http://m/k initrd=main initrd=ignition coreos.live.rootfs_url=http://m/r ignition.firstboot\ninitrd --name main http://m/i\ninitrd --name ignition h-ignition.img\nboot\n"
	k, i, r, err := ipxeFiles(script)
	if err != nil || k != "http://m/k" || i != "http://m/i" || r != "http://m/r" {
		t.Fatalf("ipxeFiles: %q %q %q %v", k, i, r, err)
	}
	if _, _, _, err := ipxeFiles("#!ipxe\nkernel http://m/k\nboot\n"); err == nil {
		t.Fatal("a script without initramfs and rootfs was accepted")
	}
}

func TestReadReport(t *testing.T) {
	p := filepath.Join(t.TempDir(), "console")
	os.WriteFile(p, []byte("noise\nKIGN-E2E-REPORT-BEGIN mode=live uptime=3 system=starting\nKIGN-E2E-REPORT-END\n"+
		"KIGN-E2E-REPORT-BEGIN mode=disk uptime=9.5 system=running\r\nunit kubelet.service enabled active running 123 yes 120\n[ 1.0] kernel noise\nKIGN-E2E-REPORT-END\n"), 0o644)
	rep, err := readReport(p)
	if err != nil {
		t.Fatal(err)
	}
	if rep.mode != "disk" || rep.system != "running" || rep.units["kubelet.service"] != (unitState{"enabled", "active", "running", "123", "yes", "120"}) {
		t.Fatalf("report: %+v", rep)
	}
	if u := rep.units["kubelet.service"]; !u.started() || u.skipped() {
		t.Fatalf("kubelet: started %v, skipped %v", u.started(), u.skipped())
	}
	if u := (unitState{"enabled", "inactive", "dead", "0", "no", "0"}); u.started() || u.skipped() {
		t.Fatal("a unit whose condition was never checked counts as started or skipped")
	}
	if u := (unitState{"enabled", "inactive", "dead", "0", "no", "99"}); !u.skipped() {
		t.Fatal("a unit whose condition failed does not count as skipped")
	}
	os.WriteFile(p, []byte("KIGN-E2E-REPORT-BEGIN mode=disk uptime=9.5 system=running\nunit a b c d e f g\n"), 0o644)
	if _, err := readReport(p); err == nil {
		t.Fatal("an unfinished report was accepted")
	}
}

func TestModuleClosure(t *testing.T) {
	p := filepath.Join(t.TempDir(), "modules.dep")
	os.WriteFile(p, []byte("kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko\nkernel/fs/jbd2/jbd2.ko:\nkernel/lib/crc16.ko:\nkernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\nkernel/fs/fat/fat.ko:\n"), 0o644)
	got, err := moduleClosure(p, []string{"ext4"})
	if err != nil || strings.Join(got, " ") != "kernel/fs/ext4/ext4.ko kernel/fs/jbd2/jbd2.ko kernel/lib/crc16.ko" {
		t.Fatalf("closure: %v %v", got, err)
	}
	if _, err := moduleClosure(p, []string{"btrfs"}); err == nil {
		t.Fatal("an unknown module was accepted")
	}
	if m := prefixMask(netip.MustParsePrefix("10.22.108.0/24")); m != "255.255.255.0" {
		t.Fatal(m)
	}
}

// A pod that returns under its old UID shows the kubelet's count carried
// on from its earlier containers: the wait's base is taken at first sight.
func TestRestartBase(t *testing.T) {
	b := restartBase{}
	b.since("m0/kube-apiserver", 2) // present when the wait began
	for _, step := range []struct {
		key      string
		restarts int
		want     int
	}{
		{"m0/kube-apiserver", 2, 0},
		{"m0/kube-apiserver", 4, 2},
		{"m1/kube-apiserver", 3, 0}, // absent at the start, returns at 3
		{"m1/kube-apiserver", 3, 0},
		{"m1/kube-apiserver", 6, 3},
		{"m1/kube-apiserver", 1, 0}, // a new UID counts from 0 again
		{"m1/kube-apiserver", 4, 3},
	} {
		if got := b.since(step.key, step.restarts); got != step.want {
			t.Errorf("since(%s, %d) = %d, want %d", step.key, step.restarts, got, step.want)
		}
	}
}

// podLog orders a pod's files by time (10.log after 2.log) and keeps each
// file's lines apart.
func TestPodLogNewestLast(t *testing.T) {
	h := &host{hostInfo: hostInfo{name: "master0"}, root: t.TempDir()}
	dir := filepath.Join(h.root, "var/log/pods", "kube-system_kube-apiserver-master0_uid", "kube-apiserver")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	for i, f := range []struct{ name, body string }{
		{"2.log", "two-a\ntwo-b\n"},
		{"10.log", "ten-a\nten-b"},
	} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := t0.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	got := podLog(h, "kube-apiserver", 1)
	want := "== kube-system_kube-apiserver-master0_uid/kube-apiserver/2.log ==\ntwo-b\n" +
		"== kube-system_kube-apiserver-master0_uid/kube-apiserver/10.log ==\nten-b"
	if got != want {
		t.Errorf("podLog:\n%s\nwant:\n%s", got, want)
	}
	if l := lastLogLine(h, "kube-apiserver"); l != "ten-b" {
		t.Errorf("lastLogLine = %q, want ten-b", l)
	}
}

// Only failures in flight when the VIP moved are set apart.
func TestSplitAtMove(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	st := clientStats{failures: []failedRequest{
		{start: at(0), end: at(50), err: "before"},
		{start: at(900), end: at(1200), err: "across the move", transport: true},
		{start: at(1010), end: at(1090), err: "inside the window"},
		{start: at(960), end: at(990), err: "ends as the window opens"},
		{start: at(1150), end: at(1160), err: "after"},
	}}
	w := moveWindow{from: at(990), to: at(1100)}
	inFlight, rest := st.splitAtMove(w)
	var got []string
	for _, f := range inFlight {
		got = append(got, f.err)
	}
	if strings.Join(got, ",") != "across the move,inside the window,ends as the window opens" {
		t.Errorf("in flight: %v", got)
	}
	got = nil
	for _, f := range rest {
		got = append(got, f.err)
	}
	if strings.Join(got, ",") != "before,after" {
		t.Errorf("rest: %v", got)
	}
	if in, rest := st.splitAtMove(moveWindow{}); len(in) != 0 || len(rest) != 5 {
		t.Errorf("no move: %d in flight, %d rest", len(in), len(rest))
	}
	for _, tc := range []struct {
		f    failedRequest
		want bool
	}{
		{failedRequest{transport: true, err: `Get "https://10.22.108.250:6443/api/v1/namespaces/default": context deadline exceeded`}, true},
		{failedRequest{transport: true, err: "dial tcp 10.22.108.250:6443: connect: connection refused"}, false},
		{failedRequest{transport: false, err: "the server is currently unable to handle the request"}, false},
	} {
		if got := tc.f.forgivable(); got != tc.want {
			t.Errorf("forgivable(%q) = %v, want %v", tc.f.err, got, tc.want)
		}
	}
}

func TestInotifyHint(t *testing.T) {
	if h := inotifyHint("E1203 failed complete: too many open files"); !strings.Contains(h, "inotify descriptors are open") {
		t.Errorf("hint for an inotify failure: %q", h)
	}
	if h := inotifyHint("connection refused"); h != "" {
		t.Errorf("hint for another failure: %q", h)
	}
}
