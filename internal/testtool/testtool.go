// Package testtool holds what kign's tests share for running real tools:
// finding them (skip on a developer's machine, fail in CI) and a network
// interface of this machine to point a config at. Only tests import it.
package testtool

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of a tool a test runs for real (see Missing when
// it is not there); pkg is the Debian package that holds it.
func Need(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found (apt-get install -y "+pkg+"; .ci/run installs it)")
	}
	return path
}

// Missing ends a test that lacks something it needs from the machine:
// skipped on a developer's machine, failed in CI (CI=true, which .ci/run
// sets), so that CI cannot pass by skipping.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Interface is an up, non-loopback network interface of this machine:
// `keepalived -t` refuses interfaces that do not exist and loopback ones.
// Without one, see Missing.
func Interface(t testing.TB) string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 && i.Flags&net.FlagUp != 0 {
			return i.Name
		}
	}
	Missing(t, "no up, non-loopback interface to point keepalived at")
	return ""
}
