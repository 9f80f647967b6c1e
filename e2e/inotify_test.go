package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// inotify instances. fs.inotify.max_user_instances (128 here, the kernel's
// default) limits the instances one user holds in a user namespace
// (fs/notify/inotify/inotify_user.c counts UCOUNT_INOTIFY_INSTANCES per
// user through kernel/ucount.c). The containers here run as the machine's
// root in the machine's own user namespace (nspawn without
// --private-users), so every host of a run shares root's 128 with the
// machine itself; on a real master the 128 are its own. A master here
// holds about 27 (systemd, journald, udev, the kubelet, containerd,
// kube-proxy, flanneld, CoreDNS ...), so five masters come close:
// kube-proxy then exits with "too many open files" while it starts its
// config watcher (cmd/kube-proxy/app/options.go, initWatcher, which calls
// fsnotify.NewWatcher, i.e. inotify_init1). The harness keeps each
// container's share down by masking what a headless test host does not
// need (prepareRoot: the password agents' path units, and
// systemd.getty_auto=0 for the getty generator, systemd 250 and later);
// the count is printed so that a change needing more shows before it
// fails.

// inotifyLimit is the machine's fs.inotify.max_user_instances.
func inotifyLimit() int {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_instances")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// inotifyOpen counts the inotify instances open on the machine by root
// (uid 0 in this user namespace): each is an fd linked to
// "anon_inode:inotify". An estimate: fds shared after dup or fork count
// more than once, and an instance made as root by a process that later
// changed its user is missed.
func inotifyOpen() int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	n := 0
	for _, p := range procs {
		st, err := os.Stat(p)
		if err != nil || !ownedByRoot(st) {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join(p, "fd"))
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(p, "fd", fd.Name())); err == nil && l == "anon_inode:inotify" {
				n++
			}
		}
	}
	return n
}

// inotifyFigure is the line printed once every node is Ready.
func inotifyFigure(hosts int) string {
	return fmt.Sprintf("inotify: %d descriptors open by root on this machine with %d hosts booted (limit %d, fs.inotify.max_user_instances, shared by every container here)", inotifyOpen(), hosts, inotifyLimit())
}

// inotifyHint explains a crash loop whose log says the instances ran out.
func inotifyHint(log string) string {
	if !strings.Contains(log, "too many open files") {
		return ""
	}
	return fmt.Sprintf("\n  (\"too many open files\": %d inotify descriptors are open by root, the limit is %d; all containers here share it, see e2e/inotify_test.go)", inotifyOpen(), inotifyLimit())
}

func ownedByRoot(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}
