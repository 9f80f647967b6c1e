package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// teardown stops everything the run started and removes what it made,
// collecting errors rather than stopping at the first.
func (r *run) teardown() []error {
	var errs []error
	var wg sync.WaitGroup
	for _, h := range append(append([]*host(nil), r.hosts...), r.retired...) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			halt(h, 15*time.Second)
			if h.console != nil {
				h.console.Close()
			}
		}()
	}
	wg.Wait()
	for _, h := range append(append([]*host(nil), r.hosts...), r.retired...) {
		errs = append(errs, h.cgroups.remove()...)
	}
	r.mirror.close()
	r.reg.close()
	errs = append(errs, r.net.destroy()...)
	if r.dir != "" {
		for _, m := range mountsUnder(r.dir) {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
			}
		}
		if left := mountsUnder(r.dir); len(left) > 0 {
			errs = append(errs, fmt.Errorf("still mounted, not removing %s: %v", r.dir, left))
		} else if !r.o.keep {
			if err := os.RemoveAll(r.dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// diagnose prints what each host's components were doing.
func (r *run) diagnose(ctx context.Context, w io.Writer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	for _, h := range r.hosts {
		fmt.Fprintf(w, "--- %s (%s)\n", h.name, h.ip)
		sts := podStatuses(h)
		names := make([]string, 0, len(sts))
		for n := range sts {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			s := sts[n]
			fmt.Fprintf(w, "  pod %s\n", s)
			if !s.healthy() || s.Restarts > 0 {
				for _, l := range strings.Split(podLog(h, n, 12), "\n") {
					fmt.Fprintf(w, "      | %s\n", l)
				}
			}
		}
		if h.initPID > 0 {
			out, _ := inContainer(ctx, h, "systemctl", "--failed", "--no-legend", "--plain")
			fmt.Fprintf(w, "  failed units: %s\n", strings.TrimSpace(out))
			out, _ = inContainer(ctx, h, "journalctl", "--no-pager", "-n", "15", "-u", "kubelet", "-u", "flanneld", "-u", "flannel-netconf", "-u", "cni-plugins-install", "-u", "etcdctl-install", "-u", "etcd-auth", "-u", "etcd-member", "-u", "etcd-member-promote")
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				fmt.Fprintf(w, "      | %s\n", l)
			}
		}
	}
}
