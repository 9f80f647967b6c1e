//go:build linux

// Command podrun is the end-to-end test's stand-in for the kubelet and a
// container runtime, which cannot run on the test machine (no containerd,
// no images). It runs inside a booted host root (systemd-nspawn), in place of
// kubelet.service's ExecStart, and does for static pods what the kubelet does,
// as far as it can without images:
//
//   - watches the static pod folder (--manifests, the KubeletConfiguration's
//     staticPodPath): a file added starts its pod, a file removed stops it, a
//     file changed restarts it;
//   - refuses what a kubelet would refuse or what it cannot emulate (a pod
//     without hostNetwork, a volume that is not a hostPath, a mount of an
//     unknown volume, a container without a command) with a status a test
//     can read;
//   - checks and prepares every hostPath volume as the kubelet's hostPath
//     plugin does (File must exist, FileOrCreate creates an empty file,
//     DirectoryOrCreate creates the folder, ...), in the host root, so a
//     file kign forgot to write fails the pod as it would on a machine;
//   - runs each container's command and args verbatim in a sandbox that
//     shows only what a container would see: its own mount namespace whose
//     root is an empty tmpfs holding the "image" (the machine's read-only
//     /usr plus the test's binaries on PATH) and each hostPath volume at its
//     own mountPath (read-only where the mount says so); a path a flag names
//     that is not mounted does not exist. It has its own PID namespace (the
//     command is PID 1; stopping the container kills everything it forked)
//     and the host's network (hostNetwork);
//   - runs the containers' startup, liveness and readiness probes (httpGet,
//     tcpSocket) with their timings, restarts a container whose liveness or
//     startup probe fails or that exits (restartPolicy Always, with a
//     crash-loop back-off of 10 s doubling to 60 s), and stops it with
//     SIGTERM, then SIGKILL after its termination grace period;
//   - writes one JSON status per container (state, restarts, last exit,
//     probe results) and the container's output into --state.
//
// What it does not emulate: images (the machine's /usr stands in for every
// image's file system, so a tool missing from an image is not noticed),
// capability and seccomp restrictions (containers run with the host root's
// full capabilities), resource requests, the pod network (only host-network
// pods run), exec probes, and the API side of the kubelet (no mirror pods,
// no node registration).
//
// Usage (inside the host root):
//
//	podrun kubelet --manifests=/etc/kubernetes/manifests --images=DIR --state=DIR
//
// The "sandbox" subcommand is internal: podrun runs itself with it, in new
// mount and PID namespaces, to build one container's file system and exec
// its command.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: podrun kubelet --manifests=DIR --images=DIR --state=DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "kubelet":
		os.Exit(runKubelet(os.Args[2:]))
	case "sandbox":
		os.Exit(runSandbox(os.Args[2:]))
	case "-h", "--help", "help":
		fmt.Println("usage: podrun kubelet --manifests=DIR --images=DIR --state=DIR")
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "podrun: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
