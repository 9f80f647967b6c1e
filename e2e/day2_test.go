package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Day 2 (README "Day 2"): snapshots restore, a wiped master rejoins by
// itself, and a power cut of every master loses nothing.

// keepConfigMap writes a ConfigMap through the VIP that later steps read.
func (r *run) keepConfigMap(ctx context.Context, name string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/created-by": "kign-e2e"}},
		Data:       map[string]string{"written": time.Now().UTC().Format(time.RFC3339Nano)},
	}
	_, err := r.admin.cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
	return err
}

// configMapExists reads a ConfigMap through the VIP.
func (r *run) configMapExists(ctx context.Context, name string) (bool, error) {
	_, err := r.admin.cs.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// unitLog returns the journal of one unit of h's current boot.
func unitLog(ctx context.Context, h *host, unit string) string {
	out, _ := inContainer(ctx, h, "journalctl", "--no-pager", "-b", "-o", "cat", "-u", unit)
	return out
}

// id returns the ID of the member called name, 0 if there is none.
func (ml etcdMembers) id(name string) uint64 {
	for _, m := range ml.Members {
		if m.Name == name {
			return m.ID
		}
	}
	return 0
}

// members returns etcd's member list, asked from via.
func (r *run) members(ctx context.Context, via *host) (etcdMembers, error) {
	var ml etcdMembers
	out, err := etcdctl(ctx, via, r.endpoints(), "member", "list", "-w", "json")
	if err != nil {
		return ml, err
	}
	if err := json.Unmarshal([]byte(jsonPart(out)), &ml); err != nil {
		return ml, fmt.Errorf("etcdctl member list: %v: %s", err, out)
	}
	return ml, nil
}

// snapshotRestore takes a snapshot with the unit etcd-snapshot.timer
// starts, writes an object after it, restores the snapshot on every
// master with the restore script kign puts there, and checks that the
// cluster is back with the object written before and without the one
// written after.
func (r *run) snapshotRestore(ctx context.Context) error {
	src := r.hosts[0]
	for _, h := range r.hosts {
		out, err := inContainer(ctx, h, "systemctl", "is-active", "etcd-snapshot.timer")
		if err != nil || strings.TrimSpace(out) != "active" {
			return fmt.Errorf("host %s: etcd-snapshot.timer is %q: %v", h.name, strings.TrimSpace(out), err)
		}
	}
	if err := r.keepConfigMap(ctx, "kign-e2e-before-snapshot"); err != nil {
		return err
	}
	t0 := time.Now()
	if out, err := inContainerFor(ctx, src, 2*time.Minute, "systemctl", "start", "etcd-snapshot.service"); err != nil {
		return fmt.Errorf("etcd-snapshot.service: %v\n%s", err, unitLog(ctx, src, "etcd-snapshot.service"))
	} else if out != "" {
		r.logf("snapshot: %s", strings.TrimSpace(out))
	}
	dir := filepath.Join(src.root, "var/lib/etcd-snapshots")
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm() != 0o700 {
		return fmt.Errorf("%s: mode %o, want 0700 (snapshots hold every secret)", dir, st.Mode().Perm())
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "etcd-*.db"))
	if len(snaps) != 1 {
		return fmt.Errorf("%s: snapshots %v, want one", dir, snaps)
	}
	snap := snaps[0]
	if fi, err := os.Stat(snap); err != nil || fi.Mode().Perm() != 0o600 {
		return fmt.Errorf("%s: %v %v, want mode 0600", snap, fi.Mode(), err)
	}
	for _, ext := range []string{".sha256", ".status.json"} {
		if _, err := os.Stat(snap + ext); err != nil {
			return fmt.Errorf("snapshot without its %s file: %w", ext, err)
		}
	}
	r.logf("snapshot: etcd-snapshot.service on %s saved and verified %s in %.1f s: %s", src.name, filepath.Base(snap), time.Since(t0).Seconds(), strings.Join(linesWith(unitLog(ctx, src, "etcd-snapshot.service"), "etcd-snapshot: "), " / "))
	if err := r.keepConfigMap(ctx, "kign-e2e-after-snapshot"); err != nil {
		return err
	}
	// The operator copies the one snapshot to every master.
	const copied = "/var/tmp/kign-e2e-restore.db"
	for _, h := range r.hosts {
		for _, ext := range []string{"", ".sha256"} {
			data, err := os.ReadFile(snap + ext)
			if err != nil {
				return err
			}
			if ext == ".sha256" {
				data = []byte(strings.Replace(string(data), filepath.Base(snap), filepath.Base(copied), 1))
			}
			if err := os.WriteFile(filepath.Join(h.root, copied+ext), data, 0o600); err != nil {
				return err
			}
		}
	}
	r.logf("restore: running /etc/kubernetes/etcd-restore.sh %s on every master at once", copied)
	t1 := time.Now()
	errs := make([]error, len(r.hosts))
	outs := make([]string, len(r.hosts))
	var wg sync.WaitGroup
	for i, h := range r.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = inContainerFor(ctx, h, 12*time.Minute, "/etc/kubernetes/etcd-restore.sh", copied)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("restore on %s: %w\n%s", r.hosts[i].name, err, outs[i])
		}
	}
	r.logf("restore: every master restored in %.1f s; %s said: %s", time.Since(t1).Seconds(), r.hosts[0].name, strings.Join(linesWith(outs[0], "etcd-restore: "), " / "))
	if err := r.waitReady(ctx, "after the restore", t1, 5*time.Minute); err != nil {
		return err
	}
	if err := r.waitEtcd(ctx, 2*time.Minute); err != nil {
		return err
	}
	before, err := r.configMapExists(ctx, "kign-e2e-before-snapshot")
	if err != nil {
		return err
	}
	after, err := r.configMapExists(ctx, "kign-e2e-after-snapshot")
	if err != nil {
		return err
	}
	if !before || after {
		return fmt.Errorf("after the restore: the object written before the snapshot exists: %v (want true), the one written after: %v (want false)", before, after)
	}
	if err := r.admin.writeRead(ctx, "kign-e2e-after-restore"); err != nil {
		return err
	}
	r.figure("snapshot and restore: a snapshot by etcd-snapshot.service restored on %d masters in %.1f s; the object written before it is back, the one written after it is gone, writes succeed", len(r.hosts), time.Since(t1).Seconds())
	return nil
}

// waitEtcd waits until every member is healthy and a voting member.
func (r *run) waitEtcd(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := r.assertEtcd(ctx, len(r.hosts))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// linesWith returns the lines of s that start with prefix (a script's own
// lines among its tools' logs).
func linesWith(s, prefix string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// reprovision wipes one master's disk while the cluster runs and boots
// it again from the same config, as a machine is repaired or replaced on
// an immutable OS: its etcd member must rejoin by itself, while a client
// reads through the VIP throughout.
func (r *run) reprovision(ctx context.Context) error {
	holders, err := r.vipHolders()
	if err != nil || len(holders) != 1 {
		return fmt.Errorf("VIP holders before the reprovision: %v %v", names(holders), err)
	}
	h := r.hosts[len(r.hosts)-1]
	if h == holders[0] {
		h = r.hosts[len(r.hosts)-2]
	}
	ml, err := r.members(ctx, r.hosts[0])
	if err != nil {
		return err
	}
	oldID := ml.id(h.name)
	if oldID == 0 {
		return fmt.Errorf("no etcd member %s before the reprovision: %+v", h.name, ml)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var st clientStats
	wg.Add(1)
	go func() { defer wg.Done(); st = r.clientLoop(ctx, stop) }()
	finish := func() { close(stop); wg.Wait() }
	r.logf("reprovisioning %s: power off, its root wiped, its config applied again with Ignition", h.name)
	t0 := time.Now()
	powerOff(h)
	if err := r.rebuildRoot(h); err != nil {
		finish()
		return err
	}
	if err := boot(h, r.bootOpts); err != nil {
		finish()
		return fmt.Errorf("host %s: %w", h.name, err)
	}
	var joined time.Duration
	for {
		ml, err := r.members(ctx, r.hosts[0])
		if err == nil {
			for _, m := range ml.Members {
				if m.Name == h.name && m.ID != oldID && !m.IsLearner {
					joined = time.Since(t0)
				}
			}
		}
		if joined > 0 {
			break
		}
		if time.Since(t0) > 6*time.Minute {
			finish()
			return fmt.Errorf("reprovision: %s not a voting etcd member 6 minutes later (members %+v, %v)\netcd-member.service:\n%s", h.name, ml, err, indent(unitLog(ctx, h, "etcd-member.service")))
		}
		select {
		case <-ctx.Done():
			finish()
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err := r.waitReady(ctx, "after the reprovision", t0, 5*time.Minute); err != nil {
		finish()
		return err
	}
	if err := r.waitEtcd(ctx, 2*time.Minute); err != nil {
		finish()
		return err
	}
	finish()
	decision := unitLog(ctx, h, "etcd-member.service")
	for _, want := range []string{"joins the running cluster", fmt.Sprintf("removing the stale member %x", oldID), "added " + h.name + " as learner"} {
		if !strings.Contains(decision, want) {
			return fmt.Errorf("reprovision: etcd-member.service on %s did not log %q:\n%s", h.name, want, indent(decision))
		}
	}
	if promote := unitLog(ctx, h, "etcd-member-promote.service"); !strings.Contains(promote, "promoted to a voting member") {
		return fmt.Errorf("reprovision: etcd-member-promote.service on %s:\n%s", h.name, indent(promote))
	}
	r.figure("reprovision: %s wiped and rebuilt from its config rejoined etcd by itself (stale member removed, added as learner, promoted) in %.1f s; longest gap through the VIP %.1f s (%d of %d requests failed)",
		h.name, joined.Seconds(), st.longestGap.Seconds(), st.failed, st.total)
	return nil
}

// rebuildRoot removes h's root and Ignition state (a wiped disk) and
// applies h's config again.
func (r *run) rebuildRoot(h *host) error {
	if h.console != nil {
		h.console.Close()
	}
	for _, m := range mountsUnder(h.dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	for _, d := range []string{h.root, h.ignState} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	if err := osLayout(h.root, r.c.os); err != nil {
		return err
	}
	if err := applyIgnition(r.tools.Ignition, h); err != nil {
		return err
	}
	bad, err := verifyRoot(h)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("host %s: the rebuilt root differs from its config: %v", h.name, bad)
	}
	return prepareRoot(h)
}

// powerOff cuts h's power: SIGKILL to its container's PID 1, no shutdown.
func powerOff(h *host) {
	if h.initPID > 0 {
		syscall.Kill(h.initPID, syscall.SIGKILL)
	}
	select {
	case <-h.exited:
	case <-time.After(20 * time.Second):
		h.nspawn.Process.Kill()
		<-h.exited
	}
	h.initPID = 0
}

// powerCycle cuts the power of every master at once and boots them all
// again with their roots kept, as disks are: the same cluster must come
// back with its data.
func (r *run) powerCycle(ctx context.Context) error {
	const name = "kign-e2e-before-power-cut"
	if err := r.keepConfigMap(ctx, name); err != nil {
		return err
	}
	before, err := r.members(ctx, r.hosts[0])
	if err != nil {
		return err
	}
	r.logf("cutting the power of all %d masters at once", len(r.hosts))
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); powerOff(h) }()
	}
	wg.Wait()
	for _, h := range r.hosts {
		if h.console != nil {
			h.console.Close()
		}
	}
	t0 := time.Now()
	for _, h := range r.hosts {
		if err := boot(h, r.bootOpts); err != nil {
			return fmt.Errorf("host %s: %w", h.name, err)
		}
	}
	if err := r.waitReadyLimit(ctx, "after the power cycle", t0, 8*time.Minute, coldStartCrashLimit); err != nil {
		return err
	}
	if err := r.waitEtcd(ctx, 2*time.Minute); err != nil {
		return err
	}
	after, err := r.members(ctx, r.hosts[0])
	if err != nil {
		return err
	}
	ids := func(ml etcdMembers) map[string]uint64 {
		m := map[string]uint64{}
		for _, x := range ml.Members {
			m[x.Name] = x.ID
		}
		return m
	}
	b, a := ids(before), ids(after)
	for n, id := range b {
		if a[n] != id {
			return fmt.Errorf("power cycle: member %s was %x, is %x: not the same cluster", n, id, a[n])
		}
	}
	ok, err := r.configMapExists(ctx, name)
	if err != nil || !ok {
		return fmt.Errorf("power cycle: the object written before the power cut is gone (%v)", err)
	}
	for _, h := range r.hosts {
		if l := unitLog(ctx, h, "etcd-member.service"); !strings.Contains(l, "holds a member (its WAL): etcd restarts as that member") {
			return fmt.Errorf("power cycle: etcd-member.service on %s:\n%s", h.name, indent(l))
		}
	}
	r.figure("power cycle: all %d masters cut off at once and booted again: control plane ready in %.1f s, the same etcd members, the object written before is read after", len(r.hosts), time.Since(t0).Seconds())
	return nil
}
