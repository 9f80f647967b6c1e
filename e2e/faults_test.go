package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Faults are made the way an operator stops a static pod: by moving its
// manifest out of the static pod folder (the kubelet stops the pod) and
// back (it starts again).

func stoppedPath(h *host, pod string) string {
	return filepath.Join(h.root, filepath.Dir(h.manifests), pod+".yaml.e2e-stopped")
}

// stopPod removes pod's manifest from h's static pod folder and waits until
// the kubelet has stopped it: its /pods no longer lists the pod and no
// process of the pod's command (named as the pod) is left.
func stopPod(ctx context.Context, h *host, pod string) error {
	if err := os.Rename(filepath.Join(h.root, h.manifests, pod+".yaml"), stoppedPath(h, pod)); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		sts, err := kubeletPods(h)
		if _, ok := sts[pod]; err == nil && !ok {
			if _, err := pidOf(ctx, h, pod); err != nil && strings.Contains(err.Error(), "no "+pod+" process") {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("host %s: %s still running 60 s after its manifest was removed", h.name, pod)
}

// startPod puts pod's manifest back.
func startPod(h *host, pod string) error {
	return os.Rename(stoppedPath(h, pod), filepath.Join(h.root, h.manifests, pod+".yaml"))
}

// settledVIP waits until one host has held the VIP for quiet.
func (r *run) settledVIP(ctx context.Context, quiet, timeout time.Duration) (*host, error) {
	deadline := time.Now().Add(timeout)
	var last *host
	since := time.Now()
	for time.Now().Before(deadline) {
		hs, err := r.vipHolders()
		if err != nil {
			return nil, err
		}
		var cur *host
		if len(hs) == 1 {
			cur = hs[0]
		}
		if cur != last {
			last, since = cur, time.Now()
		}
		if cur != nil && time.Since(since) >= quiet {
			return cur, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("the VIP did not settle on one host within %s", timeout)
}

// faultEtcd stops the etcd leader's member and proves writes still succeed
// through the VIP; then restores it and waits until all is healthy.
func (r *run) faultEtcd(ctx context.Context) error {
	leader, err := r.etcdLeader(ctx, r.hosts[0])
	if err != nil {
		return err
	}
	via := r.hosts[0]
	if via == leader {
		via = r.hosts[1]
	}
	r.logf("fault: stopping etcd on %s, the etcd leader", leader.name)
	t0 := time.Now()
	if err := stopPod(ctx, leader, "etcd"); err != nil {
		return err
	}
	r.logf("fault: etcd on %s stopped in %.1f s", leader.name, time.Since(t0).Seconds())
	hs, err := etcdHealthy(ctx, via, r.endpoints())
	if err != nil {
		return err
	}
	stopped := "https://" + leader.ip.String() + ":2379"
	if bad := unhealthy(hs); len(bad) != 1 || bad[0] != stopped || len(hs) != len(r.hosts) {
		return fmt.Errorf("etcd: unhealthy %v of %d endpoints with only %s stopped, want only %s of %d", bad, len(hs), leader.name, stopped, len(r.hosts))
	}
	var lastErr error
	deadline := time.Now().Add(60 * time.Second)
	tw := time.Now()
	failed := 0
	for n := 0; ; n++ {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		lastErr = r.admin.writeRead(wctx, fmt.Sprintf("kign-e2e-etcd-loss-%d", n))
		cancel()
		if lastErr == nil {
			break
		}
		failed++
		r.logf("fault: write %d through the VIP failed: %v", n+1, lastErr)
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd member loss: writes through the VIP fail: %w", lastErr)
		}
		time.Sleep(time.Second)
	}
	r.logf("fault: a write and read through the VIP succeeded in %.1f s, after %d failed attempts", time.Since(tw).Seconds(), failed)
	newLeader, err := r.etcdLeader(ctx, via)
	if err != nil {
		return err
	}
	r.figure("etcd member loss tolerated")
	r.logf("fault: with etcd on %s stopped, %d of %d members healthy and %s leading, writes through the VIP succeed",
		leader.name, len(hs)-1, len(r.hosts), newLeader.name)
	r.logf("restore: starting etcd on %s again", leader.name)
	if err := startPod(leader, "etcd"); err != nil {
		return err
	}
	t1 := time.Now()
	if err := r.waitReady(ctx, "restore after etcd member loss", t1, 4*time.Minute); err != nil {
		return err
	}
	for {
		err := r.assertEtcd(ctx, len(r.hosts))
		if err == nil {
			break
		}
		if time.Since(t1) > 2*time.Minute {
			return err
		}
		time.Sleep(2 * time.Second)
	}
	if err := r.assertLeases(ctx); err != nil {
		return err
	}
	if err := r.admin.writeRead(ctx, "kign-e2e-restored"); err != nil {
		return err
	}
	r.logf("restore: all healthy again in %.1f s: %d etcd members, every apiserver ready, VIP held, leases held", time.Since(t1).Seconds(), len(r.hosts))
	return nil
}
