package gen

import (
	"os"
	"os/exec"
	"testing"
)

// needTool returns the path of a tool the test runs for real. Without it
// the test is skipped on a developer's machine but fails in CI (CI=true),
// where .ci/run installs it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s not installed: %v", name, err)
	}
	return path
}
