package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HA timing (README "HA timing"): how fast the VIP leaves a holder whose
// apiserver stops answering, that a planned stop costs a client nothing,
// and that load or one slow answer moves nothing.

// pidOf returns, inside h's container, the PID of the process whose
// command is binary.
func pidOf(ctx context.Context, h *host, binary string) (string, error) {
	out, err := inContainer(ctx, h, "sh", "-c", `for p in /proc/[0-9]*; do c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null) || continue; echo "${p#/proc/} $c"; done`)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && (f[1] == binary || strings.HasSuffix(f[1], "/"+binary)) {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("host %s: no %s process", h.name, binary)
}

func signalProc(ctx context.Context, h *host, binary, sig string) error {
	pid, err := pidOf(ctx, h, binary)
	if err != nil {
		return err
	}
	_, err = inContainer(ctx, h, "sh", "-c", "kill -s "+sig+" "+pid)
	return err
}

// failover kills the VIP holder's apiserver (SIGKILL: it stops answering
// at that moment) and returns the time until the VIP is on another host
// and the admin client reads /readyz and writes through it. The kubelet
// restarts the apiserver after its back-off; failover then waits
// until everything is ready and the VIP settled again.
func (r *run) failover(ctx context.Context, n int) (time.Duration, error) {
	holders, err := r.vipHolders()
	if err != nil || len(holders) != 1 {
		return 0, fmt.Errorf("VIP holders before fault %d: %v %v", n, names(holders), err)
	}
	old := holders[0]
	t0 := time.Now()
	if err := signalProc(ctx, old, "kube-apiserver", "KILL"); err != nil {
		return 0, err
	}
	var took time.Duration
	failed := 0
	for {
		hs, err := r.vipHolders()
		if err != nil {
			return 0, err
		}
		if len(hs) == 1 && hs[0] != old {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := r.admin.readyz(rctx)
			if err == nil {
				err = r.admin.writeRead(rctx, fmt.Sprintf("kign-e2e-failover-%d", n))
			}
			cancel()
			if err == nil {
				took = time.Since(t0)
				r.logf("fault %d: kube-apiserver on %s killed; VIP on %s and the admin client read /readyz and wrote through it after %.1f s (%d attempts failed)", n, old.name, hs[0].name, took.Seconds(), failed)
				break
			}
			failed++
		}
		if time.Since(t0) > 2*time.Minute {
			return 0, fmt.Errorf("fault %d: the VIP is on %v 2 minutes after %s's apiserver was killed", n, names(hs), old.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t1 := time.Now()
	if err := r.waitReady(ctx, fmt.Sprintf("restart after fault %d", n), t1, 4*time.Minute); err != nil {
		return 0, err
	}
	holder, err := r.settledVIP(ctx, 10*time.Second, 2*time.Minute)
	if err != nil {
		return 0, err
	}
	r.logf("restore: %s's apiserver restarted by the kubelet, all ready in %.1f s, VIP settled on %s", old.name, time.Since(t1).Seconds(), holder.name)
	return took, nil
}

// faultsVIP runs three failovers and reports their median.
func (r *run) faultsVIP(ctx context.Context) error {
	var times []time.Duration
	rounds := 3
	if r.o.slowDone {
		rounds = 1
	}
	for n := 1; n <= rounds; n++ {
		d, err := r.failover(ctx, n)
		if err != nil {
			return err
		}
		times = append(times, d)
	}
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	var each []string
	for _, d := range times {
		each = append(each, fmt.Sprintf("%.1f", d.Seconds()))
	}
	r.figure("VIP failover in %.1f s (median of %d: %s s)", sorted[len(sorted)/2].Seconds(), len(times), strings.Join(each, ", "))
	return nil
}

// clientStats is what a client looping through the VIP saw.
type clientStats struct {
	total, failed int
	errs          []string
	// failures are the failed requests, with their times.
	failures []failedRequest
	// longestGap is the longest time between two successful requests
	// (or from the start to the first), the client's outage.
	longestGap time.Duration
}

// failedRequest is one failed request of clientLoop.
type failedRequest struct {
	start, end time.Time
	err        string
	// transport: no HTTP answer came (the connection broke or timed out),
	// as opposed to an answer with an error status.
	transport bool
}

// moveWindow is when the VIP left the old holder: from is the start of
// the last poll that still saw it there (or saw no single holder yet), to
// the end of the first poll that saw it on another host alone. Zero if
// no poll saw it move.
type moveWindow struct{ from, to time.Time }

// splitAtMove splits the failures into those in flight at some time in
// the move's window and the rest.
func (st clientStats) splitAtMove(w moveWindow) (inFlight, rest []failedRequest) {
	for _, f := range st.failures {
		if !w.to.IsZero() && !f.start.After(w.to) && !f.end.Before(w.from) {
			inFlight = append(inFlight, f)
		} else {
			rest = append(rest, f)
		}
	}
	return inFlight, rest
}

// forgivable is a failure the planned stop allows when it was in flight
// as the VIP moved: no HTTP answer came, and the connection was not
// refused (refused means no apiserver listened on the VIP's holder).
func (f failedRequest) forgivable() bool {
	return f.transport && !strings.Contains(f.err, "connection refused")
}

// clientLoop reads a Namespace through the VIP every 100 ms until stop is
// closed and counts the requests and failures.
func (r *run) clientLoop(ctx context.Context, stop <-chan struct{}) (st clientStats) {
	last := time.Now()
	for {
		select {
		case <-stop:
			if gap := time.Since(last); gap > st.longestGap {
				st.longestGap = gap
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		_, err := r.admin.cs.CoreV1().Namespaces().Get(rctx, "default", metav1.GetOptions{})
		cancel()
		st.total++
		if err != nil {
			st.failed++
			if len(st.errs) < 3 {
				st.errs = append(st.errs, err.Error())
			}
			var status apierrors.APIStatus
			st.failures = append(st.failures, failedRequest{start: start, end: time.Now(), err: err.Error(), transport: !errors.As(err, &status)})
			continue
		}
		if gap := time.Since(last); gap > st.longestGap {
			st.longestGap = gap
		}
		last = time.Now()
	}
}

// plannedStop stops the VIP holder's apiserver the way an operator or a
// reboot does (SIGTERM through the kubelet, here by removing its manifest)
// while a client reads through the VIP, and counts the client's failures.
// It also reports how long the apiserver took to exit after SIGTERM.
func (r *run) plannedStop(ctx context.Context) error {
	holders, err := r.vipHolders()
	if err != nil || len(holders) != 1 {
		return fmt.Errorf("VIP holders before the planned stop: %v %v", names(holders), err)
	}
	old := holders[0]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var st clientStats
	wg.Add(1)
	go func() { defer wg.Done(); st = r.clientLoop(ctx, stop) }()
	// The VIP is polled every vipPoll for when it leaves old.
	const vipPoll = 100 * time.Millisecond
	pollStop := make(chan struct{})
	movedCh := make(chan moveWindow, 1)
	go func() {
		var w moveWindow
		defer func() { movedCh <- w }()
		for {
			select {
			case <-pollStop:
				return
			case <-time.After(vipPoll):
			}
			start := time.Now()
			hs, err := r.vipHolders()
			switch {
			case !w.to.IsZero():
			case err == nil && len(hs) == 1 && hs[0] != old:
				w.to = time.Now()
			default:
				w.from = start
			}
		}
	}()
	time.Sleep(2 * time.Second)
	r.logf("planned stop: stopping kube-apiserver on %s, the VIP holder, while a client reads through the VIP every 100 ms", old.name)
	t0 := time.Now()
	if err := stopPod(ctx, old, "kube-apiserver"); err != nil {
		close(stop)
		wg.Wait()
		close(pollStop)
		<-movedCh
		return err
	}
	exited := time.Since(t0)
	hs, _ := r.vipHolders()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	close(pollStop)
	moved := <-movedCh
	// When keepalived moves the VIP, the client's keep-alive connection
	// still points at the old holder, which no longer has the address.
	// client-go retries a GET itself when that connection is reset or
	// lost (k8s.io/client-go rest/request.go, request(): IsConnectionReset,
	// IsProbableEOF, IsHTTP2ConnectionLost), so what reaches here is a
	// request that got no answer at all across the move (its 5 s ran
	// out). That comes from moving an address, not from the apiserver's
	// shutdown, which must fail no request: one such failure in flight
	// in the move's window is allowed and printed; an error status, a
	// refused connection or any other failure fails the run.
	inFlight, rest := st.splitAtMove(moved)
	r.figure("planned stop: %d of %d requests through the VIP failed (%d in flight when the VIP moved); the VIP moved to %v; kube-apiserver exited %.1f s after SIGTERM", st.failed, st.total, len(inFlight), names(hs), exited.Seconds())
	if len(rest) > 0 || len(inFlight) > 1 || (len(inFlight) == 1 && !inFlight[0].forgivable()) {
		return fmt.Errorf("planned stop: %d of %d requests failed (%d in flight when the VIP moved between %s and %s): %s", st.failed, st.total, len(inFlight), moved.from.Format("15:04:05.000"), moved.to.Format("15:04:05.000"), strings.Join(st.errs, "; "))
	}
	if len(inFlight) == 1 {
		r.logf("planned stop: allowed, in flight when the VIP moved (%s to %s): %s", moved.from.Format("15:04:05.000"), moved.to.Format("15:04:05.000"), inFlight[0].err)
	}
	if err := startPod(old, "kube-apiserver"); err != nil {
		return err
	}
	if err := r.waitReady(ctx, "restore after the planned stop", time.Now(), 4*time.Minute); err != nil {
		return err
	}
	_, err = r.settledVIP(ctx, 10*time.Second, 2*time.Minute)
	return err
}

// watchMoves counts how often the VIP changes hands until stop is closed.
func (r *run) watchMoves(stop <-chan struct{}) (moves int) {
	last, _ := r.vipHolders()
	for {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		hs, err := r.vipHolders()
		if err != nil || len(hs) != 1 {
			continue
		}
		if len(last) == 1 && hs[0] != last[0] {
			moves++
		}
		last = hs
	}
}

// falseFailovers loads every CPU of the VIP holder's container for 20 s
// (busy loops in its namespaces, ended by timeout), then stops its
// apiserver for 1.5 s (one check times out), and counts VIP moves: any is
// a false failover.
func (r *run) falseFailovers(ctx context.Context) error {
	holders, err := r.vipHolders()
	if err != nil || len(holders) != 1 {
		return fmt.Errorf("VIP holders before the load: %v %v", names(holders), err)
	}
	h := holders[0]
	stop := make(chan struct{})
	movesCh := make(chan int, 1)
	go func() { movesCh <- r.watchMoves(stop) }()
	// As many busy loops as the machine has CPUs, for 20 s.
	load := `n=$(nproc); i=0; while [ $i -lt $n ]; do timeout 20 sh -c 'while :; do :; done' & i=$((i+1)); done; wait`
	if _, err := inContainer(ctx, h, "sh", "-c", load); err != nil {
		close(stop)
		<-movesCh
		return fmt.Errorf("CPU load on %s: %w", h.name, err)
	}
	if err := signalProc(ctx, h, "kube-apiserver", "STOP"); err != nil {
		close(stop)
		<-movesCh
		return err
	}
	time.Sleep(1500 * time.Millisecond)
	if err := signalProc(ctx, h, "kube-apiserver", "CONT"); err != nil {
		close(stop)
		<-movesCh
		return err
	}
	time.Sleep(8 * time.Second)
	close(stop)
	moves := <-movesCh
	r.figure("false failovers: %d (20 s of every CPU busy on %s, then its apiserver frozen for 1.5 s)", moves, h.name)
	if moves > 0 {
		return fmt.Errorf("the VIP moved %d times with %s's apiserver loaded but answering", moves, h.name)
	}
	return nil
}
