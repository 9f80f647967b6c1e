package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// crashLoopLimit: a container that has been restarted this often since a
// wait began, without becoming healthy, fails the run at once (a broken
// config does not heal). Restarts before the wait (the faults' own, each
// with the kubelet's back-off: 10, 20, 40 s ...) do not count.
const crashLoopLimit = 3

// coldStartCrashLimit is crashLoopLimit for a wait in which every master
// starts at once (the power cut): each apiserver exits until etcd has a
// quorum, and under the boot of all hosts on two cores that took up to
// four restarts. Twice the limit still fails a broken config within the
// back-off's first few minutes (10+20+40+80+160 s).
const coldStartCrashLimit = 6

// restartBase holds, per host/pod, the restart count a wait first saw. The
// kubelet's count is not zero for a pod that returns: a static pod keeps
// its UID (hashed from the manifest, node and file name,
// pkg/kubelet/config/common.go), and the kubelet counts on from that UID's
// earlier containers or their log files (kuberuntime_container.go,
// startContainer and calcRestartCountByLogDir). So a pod absent when the
// wait began (its manifest moved away, its host powered off) takes its
// base at first sight, not 0.
type restartBase map[string]int

// since returns how often key's container restarted since the wait first
// saw it (0 on first sight).
func (b restartBase) since(key string, restarts int) int {
	base, ok := b[key]
	if !ok || restarts < base {
		// First sight, or a new pod under the same name (a new UID after
		// its manifest changed) counting from 0 again.
		b[key] = restarts
		return 0
	}
	return restarts - base
}

// notReady lists what keeps the control plane from being ready: every
// static pod of every host running with its probes passing (etcd /readyz,
// apiserver /readyz, controller-manager /healthz, scheduler /readyz,
// kube-proxy /livez, keepalived running), the VIP on exactly one host and
// the admin client reading /readyz through it. A non-nil error means the
// run cannot succeed (crash loop, container gone).
func (r *run) notReady(ctx context.Context, base restartBase, limit int) ([]string, error) {
	var waits []string
	for _, h := range r.hosts {
		select {
		case <-h.exited:
			return nil, fmt.Errorf("host %s: the container stopped:\n%s", h.name, tailFile(h.console.Name(), 20))
		default:
		}
		sts, kerr := kubeletPods(h)
		if kerr != nil {
			if !h.booted.IsZero() && time.Since(h.booted) > 2*time.Minute && strings.Contains(kerr.Error(), "connection refused") {
				out, _ := inContainer(ctx, h, "systemctl", "status", "--no-pager", "--lines=20", "kubelet.service")
				return nil, fmt.Errorf("host %s: the kubelet does not listen 2 minutes after boot:\n%s", h.name, indent(out))
			}
			// The kubelet is starting, or cannot authorize the request
			// while no apiserver answers: wait.
			waits = append(waits, fmt.Sprintf("%s: kubelet /pods: %v", h.name, kerr))
			continue
		}
		if len(sts) == 0 && !h.booted.IsZero() && time.Since(h.booted) > 2*time.Minute {
			out, _ := inContainer(ctx, h, "systemctl", "status", "--no-pager", "--lines=20", "kubelet.service")
			jobs, _ := inContainer(ctx, h, "systemctl", "list-jobs", "--no-pager")
			return nil, fmt.Errorf("host %s: the kubelet reported no static pod 2 minutes after boot:\n%s\n%s", h.name, indent(out), indent(tail(jobs, 10)))
		}
		for _, m := range manifestNames(h, h.manifests) {
			s, ok := sts[m]
			restarts := 0
			if ok {
				restarts = base.since(h.name+"/"+m, s.Restarts)
			}
			switch {
			case !ok:
				waits = append(waits, fmt.Sprintf("%s: %s not started", h.name, m))
			case s.State == "waiting" && (s.Reason == "ErrImagePull" || s.Reason == "ImagePullBackOff" || s.Reason == "InvalidImageName"):
				// The registry holds every image kign names; a pull that
				// fails is a wrong or missing image, not a slow network.
				return nil, fmt.Errorf("host %s: static pod %s: image pull failed: %s", h.name, m, s)
			case !s.healthy() && restarts >= limit:
				l := podLog(h, m, 15)
				return nil, fmt.Errorf("host %s: static pod %s is crash-looping (%d restarts since the wait first saw it): %s\n%s%s", h.name, m, restarts, s, indent(l), inotifyHint(l))
			case !s.healthy() && s.Reason == "CrashLoopBackOff":
				// The reason it exits, in the wait's report.
				w := fmt.Sprintf("%s: %s", h.name, s)
				if l := lastLogLine(h, m); l != "" {
					w += "; last log line: " + l
				}
				waits = append(waits, w)
			case !s.healthy():
				waits = append(waits, fmt.Sprintf("%s: %s", h.name, s))
			}
		}
	}
	holders, err := r.vipHolders()
	if err != nil {
		return nil, err
	}
	if len(holders) != 1 {
		waits = append(waits, fmt.Sprintf("VIP %s held by %d hosts %v", r.c.vip, len(holders), names(holders)))
	} else if err := r.admin.readyz(ctx); err != nil {
		waits = append(waits, "admin client: "+err.Error())
	}
	return waits, nil
}

// waitReady polls notReady until it is empty.
func (r *run) waitReady(ctx context.Context, what string, since time.Time, timeout time.Duration) error {
	return r.waitReadyLimit(ctx, what, since, timeout, crashLoopLimit)
}

// waitReadyLimit is waitReady with limit restarts counting as a crash loop.
func (r *run) waitReadyLimit(ctx context.Context, what string, since time.Time, timeout time.Duration, limit int) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	base := restartBase{}
	for _, h := range r.hosts {
		for m, s := range podStatuses(h) {
			base.since(h.name+"/"+m, s.Restarts)
		}
	}
	for {
		waits, err := r.notReady(ctx, base, limit)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if len(waits) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %s:\n  %s", what, timeout, strings.Join(waits, "\n  "))
		}
		if time.Since(lastReport) > 20*time.Second {
			lastReport = time.Now()
			r.logf("%s: %.0f s, waiting for %d: %s", what, time.Since(since).Seconds(), len(waits), waits[0])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// vipHolders returns the hosts whose interface holds the VIP.
func (r *run) vipHolders() ([]*host, error) {
	var out []*host
	for _, h := range r.hosts {
		ok, err := hasAddr(h.ns, h.iface, r.c.vip)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

func names(hs []*host) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.name)
	}
	return out
}

func indent(s string) string {
	return "      | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n      | ")
}

// assertAll checks the ready control plane in depth. Each check logs what
// it proved.
func (r *run) assertAll(ctx context.Context) error {
	if err := r.assertEtcd(ctx, len(r.hosts)); err != nil {
		return err
	}
	// admin's rights come from kign's RBAC, which kign-addons.service applies.
	if err := r.assertAddons(ctx); err != nil {
		return err
	}
	for _, h := range r.hosts {
		if err := apiserverReadyz(ctx, r.net.hub, r.ca, h.ip, r.c.port); err != nil {
			return fmt.Errorf("apiserver on %s: %w", h.name, err)
		}
	}
	r.logf("check: every apiserver answers /readyz on its own address, certificate verified for that IP against the cluster CA")
	if err := r.assertLeases(ctx); err != nil {
		return err
	}
	holders, err := r.vipHolders()
	if err != nil {
		return err
	}
	if len(holders) != 1 {
		return fmt.Errorf("VIP %s held by %v", r.c.vip, names(holders))
	}
	if err := r.admin.readyz(ctx); err != nil {
		return err
	}
	if err := r.admin.writeRead(ctx, "kign-e2e-ready"); err != nil {
		return err
	}
	r.logf("check: keepalived on %s holds VIP %s; out/admin.kubeconfig (verification on) read /readyz and wrote and read a ConfigMap through it", holders[0].name, r.c.vip)
	// kign gives the first host the highest priority; keepalived preempts.
	holder, err := r.settledVIP(ctx, 10*time.Second, 2*time.Minute)
	if err != nil {
		return err
	}
	if holder != r.hosts[0] {
		return fmt.Errorf("VIP settled on %s, not on %s, the first host (highest keepalived priority)", holder.name, r.hosts[0].name)
	}
	r.logf("check: the VIP settles on %s, the host with the highest keepalived priority", holder.name)
	if err := r.assertFlannel(ctx); err != nil {
		return err
	}
	if err := r.assertProxy(ctx); err != nil {
		return err
	}
	if err := r.assertSysctls(ctx); err != nil {
		return err
	}
	if err := r.assertSecurity(ctx); err != nil {
		return err
	}
	if err := r.assertExtraArgs(ctx); err != nil {
		return err
	}
	if err := r.assertUserAddons(ctx); err != nil {
		return err
	}
	return r.assertUnits(ctx)
}

// assertEtcd checks, from the first host with its own etcdctl and
// health-check certificate, that want members are healthy over TLS and
// that the member list is the inventory's.
func (r *run) assertEtcd(ctx context.Context, want int) error {
	via := r.hosts[0]
	hs, err := etcdHealthy(ctx, via, r.endpoints())
	if err != nil {
		return err
	}
	healthy := len(hs) - len(unhealthy(hs))
	if healthy != want {
		return fmt.Errorf("etcd: %d of %d endpoints healthy, want %d: %+v", healthy, len(hs), want, hs)
	}
	out, err := etcdctl(ctx, via, r.endpoints(), "member", "list", "-w", "json")
	if err != nil {
		return err
	}
	var ml etcdMembers
	if err := json.Unmarshal([]byte(jsonPart(out)), &ml); err != nil {
		return fmt.Errorf("etcdctl member list: %v: %s", err, out)
	}
	got := map[string]string{}
	for _, m := range ml.Members {
		got[m.Name] = strings.Join(m.PeerURLs, ",")
		if m.IsLearner {
			return fmt.Errorf("etcd member %s is still a learner", m.Name)
		}
	}
	for _, h := range r.hosts {
		if p := "https://" + h.ip.String() + ":2380"; got[h.name] != p {
			return fmt.Errorf("etcd member %s: peer URLs %q, want %q (members %v)", h.name, got[h.name], p, got)
		}
	}
	if len(ml.Members) != len(r.hosts) {
		return fmt.Errorf("etcd has %d members, the inventory %d hosts", len(ml.Members), len(r.hosts))
	}
	r.logf("check: etcd has %d voting members named as the hosts, %d healthy over TLS (client certificates verified)", len(ml.Members), healthy)
	return nil
}

// etcdLeader returns the host whose member leads, asked from via.
func (r *run) etcdLeader(ctx context.Context, via *host) (*host, error) {
	out, err := etcdctl(ctx, via, r.endpoints(), "endpoint", "status", "-w", "json")
	var sts []etcdStatus
	if jerr := json.Unmarshal([]byte(jsonPart(out)), &sts); jerr != nil {
		return nil, fmt.Errorf("etcdctl endpoint status: %v %v: %s", err, jerr, out)
	}
	for _, s := range sts {
		if s.Status.Leader != 0 && s.Status.Leader == s.Status.Header.MemberID {
			for _, h := range r.hosts {
				if strings.Contains(s.Endpoint, "//"+h.ip.String()+":") {
					return h, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no etcd leader in %s", out)
}

// assertLeases checks that controller-manager and scheduler each hold
// their leader lease, renewed in time, under one of the inventory's names.
func (r *run) assertLeases(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for _, lease := range []string{"kube-controller-manager", "kube-scheduler"} {
		for {
			holder, err := r.admin.leaseHolder(ctx, lease)
			if err == nil {
				name, _, _ := strings.Cut(holder, "_")
				if r.hostByName(name) == nil {
					return fmt.Errorf("lease %s held by %q, not one of the inventory's hosts", lease, holder)
				}
				r.logf("check: %s holds its lease (holder %s)", lease, holder)
				break
			}
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(time.Second)
		}
	}
	return nil
}

func (r *run) hostByName(name string) *host {
	for _, h := range r.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}
