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

// Need returns the path of a tool a test runs for real. Without it the test
// is skipped on a developer's machine but fails in CI (CI=true), where
// .ci/run installs pkg, the Debian package that holds it.
func Need(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found (apt-get install -y " + pkg + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; .ci/run installs it")
		}
		t.Skip(msg)
	}
	return path
}

// Interface is an up, non-loopback network interface of this machine:
// `keepalived -t` refuses interfaces that do not exist and loopback ones.
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
	t.Skip("no non-loopback interface to point keepalived at")
	return ""
}
