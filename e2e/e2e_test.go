package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vincent-petithory/dataurl"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

var (
	flagHosts    = flag.String("hosts", "", "inventory to test end to end (make e2e HOSTS=...); the tests are skipped without it")
	flagKign     = flag.String("kign", "", "kign binary (default: built from the repository)")
	flagWork     = flag.String("work", "/var/tmp", "folder for the run's work folder (roots of every host)")
	flagKeep     = flag.Bool("keep", false, "keep the work folder (namespaces, processes and mounts are always removed)")
	flagSlowDone = flag.Bool("slow-done", false, "the slowest scenarios (three VIP failovers, snapshot and restore) ran on another inventory of this run: one failover and no restore here")
)

func setup(t *testing.T) (options, context.Context) {
	t.Helper()
	if *flagHosts == "" {
		t.Skip("end-to-end test: run with -hosts=FILE (make e2e)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the end-to-end test needs root (network namespaces, mounts, systemd-nspawn)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := filepath.Abs(*flagHosts)
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(*flagHosts) {
		// go test runs in e2e/; a relative -hosts is relative to the repository.
		hosts = filepath.Join(repo, *flagHosts)
	}
	o := options{repo: repo, hosts: hosts, kign: *flagKign, work: *flagWork, keep: *flagKeep, slowDone: *flagSlowDone, progress: os.Stdout}
	ctx, cancel := context.WithCancel(context.Background())
	if d, ok := t.Deadline(); ok {
		// Leave time to tear down before go test's own timeout kills us.
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-3*time.Minute))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "e2e: %s: tearing down\n", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	t.Cleanup(func() { signal.Stop(sig); cancel() })
	return o, ctx
}

// runE2E executes one run and always tears it down.
func runE2E(t *testing.T, ctx context.Context, o options) (*run, error) {
	r := &run{o: o}
	err := r.execute(ctx)
	if err != nil && len(r.hosts) > 0 {
		var b bytes.Buffer
		r.diagnose(ctx, &b)
		t.Logf("diagnostics:\n%s", b.String())
	}
	t0 := time.Now()
	errs := r.teardown()
	for _, e := range errs {
		t.Errorf("teardown: %v", e)
	}
	r.logf("teardown: containers halted, namespaces deleted, work folder %s in %.1f s", map[bool]string{true: "kept", false: "removed"}[o.keep], time.Since(t0).Seconds())
	return r, err
}

// TestE2E is `make e2e`: the inventory's configs applied with real
// Ignition, booted with systemd, the control plane checked, faults made.
func TestE2E(t *testing.T) {
	o, ctx := setup(t)
	start := time.Now()
	_, err := runE2E(t, ctx, o)
	if err != nil {
		t.Fatalf("e2e: FAIL after %.0f s: %v", time.Since(start).Seconds(), err)
	}
	fmt.Printf("e2e: PASS %s in %.0f s\n", filepath.Base(o.hosts), time.Since(start).Seconds())
}

// TestE2ETools gets the tools TestE2E needs for -hosts (hack/e2e-tools.sh,
// the same call as the lane's first step) and does nothing else:
// hack/e2e-run.sh runs it for the later inventories in the background, at
// the lowest CPU priority, while the first inventory's lane runs.
func TestE2ETools(t *testing.T) {
	o, _ := setup(t)
	start := time.Now()
	logf := func(format string, a ...any) { fmt.Fprintf(o.progress, "e2e: "+format+"\n", a...) }
	version, kt, err := prepareTools(&o, t.TempDir(), logf)
	if err != nil {
		t.Fatal(err)
	}
	logf("tools for %s ready in %.0f s: Kubernetes %s (kign plans %s), etcd %s",
		o.hosts, time.Since(start).Seconds(), kt.tools.K8sBuilt, version, kt.tools.EtcdVersion)
}

// TestHarnessCatchesUnmountedPath is the harness's own test: a config in
// which master 0's kube-apiserver lacks the hostPath mount of a file its
// flags name (the etcd client key) must fail the run, with a message that
// names the missing path, as it would fail on a machine.
func TestHarnessCatchesUnmountedPath(t *testing.T) {
	const path = "/etc/kubernetes/pki/apiserver-etcd-client.key"
	harnessMustFail(t, "kube-apiserver", "a missing hostPath mount", func(p *corev1.Pod) (string, error) {
		return path, dropMount(p, path)
	})
}

// TestHarnessCatchesMissingImage is the harness's test of what only the
// real kubelet and runtime see: master 0's kube-scheduler names a tag the
// registry does not hold (as a mistyped image in kign's catalog would);
// the pull must fail and fail the run, naming the host, pod and image.
func TestHarnessCatchesMissingImage(t *testing.T) {
	harnessMustFail(t, "kube-scheduler", "an image the registry does not hold", func(p *corev1.Pod) (string, error) {
		c := &p.Spec.Containers[0]
		c.Image = c.Image[:strings.LastIndex(c.Image, ":")] + ":kign-e2e-missing"
		return c.Image, nil
	})
}

// harnessMustFail breaks the first host's static pod pod with breakPod,
// which returns what the failure must name; the run must fail, naming the
// host, the pod and that.
func harnessMustFail(t *testing.T, pod, what string, breakPod func(*corev1.Pod) (string, error)) {
	o, ctx := setup(t)
	first, want := "", ""
	o.stopAfterReady = true
	o.mutate = func(host string, ign []byte) ([]byte, error) {
		if first == "" {
			first = host
		}
		if host != first {
			return ign, nil
		}
		return editManifest(ign, pod, func(p *corev1.Pod) (err error) {
			want, err = breakPod(p)
			return err
		})
	}
	_, err := runE2E(t, ctx, o)
	if err == nil {
		t.Fatalf("the run passed with %s (%s) in %s's %s", what, want, first, pod)
	}
	msg := err.Error()
	if !strings.Contains(msg, first) || !strings.Contains(msg, pod) || !strings.Contains(msg, want) {
		t.Fatalf("the run failed, but not for %s (%s):\n%v", what, want, err)
	}
	fmt.Printf("e2e: harness check: %s failed the run as expected:\n%s\n", what, tail(msg, 6))
}

// dropMount removes the volume mount of path (and its volume) from p.
func dropMount(p *corev1.Pod, path string) error {
	c := &p.Spec.Containers[0]
	found := false
	for i, m := range c.VolumeMounts {
		if m.MountPath == path {
			c.VolumeMounts = append(c.VolumeMounts[:i], c.VolumeMounts[i+1:]...)
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("%s has no mount of %s", p.Name, path)
	}
	for i, v := range p.Spec.Volumes {
		if v.HostPath != nil && v.HostPath.Path == path {
			p.Spec.Volumes = append(p.Spec.Volumes[:i], p.Spec.Volumes[i+1:]...)
			break
		}
	}
	return nil
}

// editManifest changes the static pod manifest of pod in an Ignition
// config with edit.
func editManifest(ign []byte, pod string, edit func(*corev1.Pod) error) ([]byte, error) {
	var cfg map[string]any
	if err := json.Unmarshal(ign, &cfg); err != nil {
		return nil, err
	}
	storage, _ := cfg["storage"].(map[string]any)
	files, _ := storage["files"].([]any)
	for _, f := range files {
		file := f.(map[string]any)
		if file["path"] != "/etc/kubernetes/manifests/"+pod+".yaml" {
			continue
		}
		contents := file["contents"].(map[string]any)
		src, _ := contents["source"].(string)
		if comp, _ := contents["compression"].(string); comp != "" {
			return nil, fmt.Errorf("%s manifest is %s-compressed: not handled", pod, comp)
		}
		du, err := dataurl.DecodeString(src)
		if err != nil {
			return nil, err
		}
		var p corev1.Pod
		if err := yaml.Unmarshal(du.Data, &p); err != nil {
			return nil, err
		}
		if err := edit(&p); err != nil {
			return nil, err
		}
		data, err := yaml.Marshal(&p)
		if err != nil {
			return nil, err
		}
		contents["source"] = dataurl.New(data, "text/plain").String()
		return json.Marshal(cfg)
	}
	return nil, fmt.Errorf("no %s manifest in the config", pod)
}
