//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Crash-loop back-off: the kubelet's initial 10 s, doubling, capped at 60 s
// here (the kubelet caps at 5 minutes) so a test does not wait for minutes.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 60 * time.Second
	// backoffReset: a container that ran this long starts over at the
	// initial back-off (the kubelet uses 10 minutes).
	backoffReset = 2 * time.Minute
)

// Status is what the stand-in reports for one container, in
// STATE/status/<pod>.<container>.json. The test reads it.
type Status struct {
	Manifest  string    `json:"manifest"`
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	State     string    `json:"state"` // waiting, running, terminated
	Reason    string    `json:"reason,omitempty"`
	Message   string    `json:"message,omitempty"`
	Restarts  int       `json:"restarts"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	// Started, Live and Ready are the probe results (true without a probe).
	Started    bool      `json:"started"`
	Live       bool      `json:"live"`
	Ready      bool      `json:"ready"`
	ProbeError string    `json:"probeError,omitempty"`
	LastExit   *Exit     `json:"lastExit,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Exit is how a container ended.
type Exit struct {
	Code   int       `json:"code"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

type kubelet struct {
	manifests, images, state, self string
	taints                         []corev1.Taint        // registerWithTaints
	workers                        map[string]*podWorker // by manifest file name
}

func runKubelet(args []string) int {
	fs := flag.NewFlagSet("podrun kubelet", flag.ContinueOnError)
	k := &kubelet{workers: map[string]*podWorker{}}
	fs.StringVar(&k.manifests, "manifests", "/etc/kubernetes/manifests", "static pod folder")
	fs.StringVar(&k.images, "images", imagesDir, "folder of binaries put on every container's PATH")
	fs.StringVar(&k.state, "state", "/kign-e2e/state", "folder for statuses and container output")
	config := fs.String("config", "", "the kubelet's configuration file: its staticPodPath is the static pod folder (overrides --manifests)")
	kubeconfig := fs.String("kubeconfig", "", "the kubelet's kubeconfig: with it the Node is registered, as the kubelet does")
	nodeName := fs.String("hostname-override", "", "the Node's name")
	nodeIP := fs.String("node-ip", "", "the Node's InternalIP")
	poll := fs.Duration("poll", time.Second, "how often the static pod folder is read")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config != "" {
		data, err := os.ReadFile(*config)
		if err != nil {
			fmt.Fprintln(os.Stderr, "podrun:", err)
			return 1
		}
		var kc struct {
			Kind               string         `json:"kind"`
			StaticPodPath      string         `json:"staticPodPath"`
			RegisterWithTaints []corev1.Taint `json:"registerWithTaints"`
		}
		if err := yaml.Unmarshal(data, &kc); err != nil || kc.Kind != "KubeletConfiguration" {
			fmt.Fprintf(os.Stderr, "podrun: %s: not a KubeletConfiguration (%v)\n", *config, err)
			return 1
		}
		if kc.StaticPodPath == "" {
			fmt.Fprintf(os.Stderr, "podrun: %s has no staticPodPath: the kubelet would run no static pods\n", *config)
			return 1
		}
		k.manifests = kc.StaticPodPath
		k.taints = kc.RegisterWithTaints
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "podrun:", err)
		return 1
	}
	k.self = self
	for _, d := range []string{"status", "logs", "specs"} {
		if err := os.MkdirAll(filepath.Join(k.state, d), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "podrun:", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Printf("podrun: kubelet stand-in watching %s\n", k.manifests)
	if *kubeconfig != "" {
		go registerNode(ctx, *kubeconfig, *nodeName, *nodeIP, k.taints)
	}
	t := time.NewTicker(*poll)
	defer t.Stop()
	for {
		k.sync(ctx)
		select {
		case <-ctx.Done():
			k.stopAll()
			return 0
		case <-t.C:
		}
	}
}

// sync starts, restarts and stops pods to match the manifest folder. Like
// the kubelet's file source it reads every file not starting with a dot.
func (k *kubelet) sync(ctx context.Context) {
	entries, err := os.ReadDir(k.manifests)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "podrun:", err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(k.manifests, e.Name()))
		if err != nil {
			continue
		}
		seen[e.Name()] = true
		sum := sha256.Sum256(data)
		if w := k.workers[e.Name()]; w != nil {
			if w.sum == sum {
				continue
			}
			fmt.Printf("podrun: %s changed: restarting its pod\n", e.Name())
			w.stop()
		}
		k.workers[e.Name()] = k.start(ctx, e.Name(), data, sum)
	}
	names := make([]string, 0, len(k.workers))
	for n := range k.workers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !seen[n] {
			fmt.Printf("podrun: %s removed: stopping its pod\n", n)
			k.workers[n].stop()
			delete(k.workers, n)
		}
	}
}

func (k *kubelet) stopAll() {
	var wg sync.WaitGroup
	for _, w := range k.workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.stop() }()
	}
	wg.Wait()
}

// podWorker runs every container of one static pod.
type podWorker struct {
	sum    [32]byte
	cancel context.CancelFunc
	done   sync.WaitGroup
	files  []string // status files to remove when the pod goes away
}

func (k *kubelet) start(parent context.Context, file string, data []byte, sum [32]byte) *podWorker {
	ctx, cancel := context.WithCancel(parent)
	w := &podWorker{sum: sum, cancel: cancel}
	pod, err := parsePod(data)
	if err != nil {
		st := &Status{Manifest: file, Pod: strings.TrimSuffix(file, filepath.Ext(file)), State: "waiting", Reason: "ManifestInvalid", Message: err.Error()}
		path := k.statusPath(st.Pod, "")
		w.files = append(w.files, path)
		writeStatus(path, st)
		fmt.Fprintf(os.Stderr, "podrun: %s: %v\n", file, err)
		return w
	}
	for _, c := range pod.Spec.Containers {
		c := &containerRun{k: k, file: file, pod: pod, c: c}
		c.st = Status{Manifest: file, Pod: pod.Name, Container: c.c.Name, State: "waiting", Reason: "ContainerCreating"}
		c.statusFile = k.statusPath(pod.Name, c.c.Name)
		w.files = append(w.files, c.statusFile)
		w.done.Add(1)
		go func() { defer w.done.Done(); c.loop(ctx) }()
	}
	return w
}

func (w *podWorker) stop() {
	w.cancel()
	w.done.Wait()
	for _, f := range w.files {
		os.Remove(f)
	}
}

func (k *kubelet) statusPath(pod, container string) string {
	return filepath.Join(k.state, "status", safeName(pod, container)+".json")
}

// containerRun is one container's life: start, probe, restart.
type containerRun struct {
	k          *kubelet
	file       string
	pod        *corev1.Pod
	c          corev1.Container
	statusFile string
	mu         sync.Mutex
	st         Status
}

func (r *containerRun) update(f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.st)
	writeStatus(r.statusFile, &r.st)
}

func (r *containerRun) logf(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	fmt.Printf("podrun: %s/%s: %s\n", r.pod.Name, r.c.Name, msg)
	if f, err := os.OpenFile(r.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "=== podrun %s: %s\n", time.Now().UTC().Format(time.RFC3339Nano), msg)
		f.Close()
	}
}

func (r *containerRun) logPath() string {
	return filepath.Join(r.k.state, "logs", safeName(r.pod.Name, r.c.Name)+".log")
}

func (r *containerRun) loop(ctx context.Context) {
	backoff := backoffInitial
	for attempt := 0; ; attempt++ {
		ran, stopped := r.runOnce(ctx, attempt)
		if stopped {
			r.update(func(s *Status) { s.State, s.Reason, s.Ready, s.Live = "terminated", "Stopped", false, false })
			return
		}
		if ran >= backoffReset {
			backoff = backoffInitial
		}
		r.update(func(s *Status) {
			s.State, s.Reason, s.Ready, s.Live, s.Started = "waiting", "CrashLoopBackOff", false, false, false
			s.Restarts = attempt + 1
		})
		r.logf("back-off %s before restarting", backoff)
		select {
		case <-ctx.Done():
			r.update(func(s *Status) { s.State, s.Reason = "terminated", "Stopped" })
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, backoffMax)
	}
}

// runOnce starts the container and returns when it has exited (how long it
// ran) or was stopped because the pod went away (stopped).
func (r *containerRun) runOnce(ctx context.Context, attempt int) (time.Duration, bool) {
	root := filepath.Join("/run/kign-e2e-pods", safeName(r.pod.Name, r.c.Name))
	spec, err := buildSpec(r.pod, r.c, r.k.images, root)
	if err != nil {
		r.logf("cannot start: %v", err)
		r.update(func(s *Status) { s.State, s.Reason, s.Message = "waiting", "CreateContainerError", err.Error() })
		return 0, ctx.Err() != nil
	}
	specPath := filepath.Join(r.k.state, "specs", safeName(r.pod.Name, r.c.Name)+".json")
	data, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(specPath, data, 0o600); err != nil {
		r.logf("cannot write spec: %v", err)
		return 0, ctx.Err() != nil
	}
	out, err := os.OpenFile(r.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.logf("cannot open log: %v", err)
		return 0, ctx.Err() != nil
	}
	defer out.Close()
	cmd := exec.Command(r.k.self, "sandbox", specPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID, Setpgid: true}
	r.logf("starting (attempt %d): %s", attempt+1, strings.Join(spec.Argv, " "))
	started := time.Now()
	if err := cmd.Start(); err != nil {
		r.logf("start failed: %v", err)
		r.update(func(s *Status) { s.State, s.Reason, s.Message = "waiting", "StartError", err.Error() })
		return 0, ctx.Err() != nil
	}
	r.update(func(s *Status) {
		s.State, s.Reason, s.Message, s.StartedAt, s.Restarts = "running", "", "", started, attempt
		s.Started = r.c.StartupProbe == nil
		s.Live = true
		s.Ready = r.c.ReadinessProbe == nil && s.Started
		s.ProbeError = ""
	})
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	probeCtx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	kill := make(chan string, 1)
	go r.probe(probeCtx, kill)

	var reason string
	select {
	case err := <-exited:
		return r.exited(err, started, "Error"), false
	case reason = <-kill:
		r.logf("%s: killing the container", reason)
	case <-ctx.Done():
		reason = "Stopped"
		r.logf("pod removed: stopping the container")
	}
	stopProbes()
	r.terminate(cmd, exited)
	ran := r.exited(nil, started, reason)
	return ran, ctx.Err() != nil
}

// terminate sends SIGTERM, then SIGKILL after the pod's grace period.
func (r *containerRun) terminate(cmd *exec.Cmd, exited <-chan error) {
	grace := 30 * time.Second
	if g := r.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(grace):
	}
	r.logf("still running after %s: SIGKILL", grace)
	cmd.Process.Kill()
	<-exited
}

func (r *containerRun) exited(err error, started time.Time, reason string) time.Duration {
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
	if reason == "Error" && code == 0 {
		reason = "Completed"
	}
	r.logf("exited with code %d (%s) after %s", code, reason, time.Since(started).Round(time.Millisecond))
	r.update(func(s *Status) {
		s.LastExit = &Exit{Code: code, Reason: reason, At: time.Now()}
		s.Live, s.Ready = false, false
	})
	return time.Since(started)
}

func writeStatus(path string, s *Status) {
	s.UpdatedAt = time.Now()
	data, _ := json.MarshalIndent(s, "", "  ")
	tmp := path + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		os.Rename(tmp, path)
	}
}
