// Command kign turns one inventory file (hosts.yaml) into one Ignition config
// per Kubernetes control-plane host. See README.md.
package main

import (
	"os"
	"runtime/debug"

	"golang.org/x/term"

	"github.com/kign-project/kign/internal/cli"
)

func main() {
	// kign is a short-lived batch process whose heap is mostly garbage from
	// YAML and JSON passes; collecting less often saves about a fifth of the
	// CPU of `kign gen` (go test -bench . ./internal/gen with GOGC=400).
	// GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(cli.MainEnv(os.Args[1:], cli.Env{
		Stdout: os.Stdout, Stderr: os.Stderr,
		Stdin: os.Stdin, Interactive: term.IsTerminal(int(os.Stdin.Fd())),
	}))
}
