// Package cli is kign's command-line interface: a table of subcommands, each
// parsing its own pflag set. Conventions (as butane's): help goes to stdout
// with exit 0, usage errors exit 2, failures exit 1, diagnostics go to stderr.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Version is kign's version, set at link time with
// -ldflags "-X github.com/kign-project/kign/internal/cli.Version=v0.1.0".
var Version = "v0.0.0-dev"

// Env is what a command may use of the outside world besides the disk.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Stdin is read by interactive commands (kign init) only when
	// Interactive is true: standard input is a terminal.
	Stdin       io.Reader
	Interactive bool
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	// Usage is the argument synopsis after "kign NAME".
	Usage string
	// Flags declares the command's flags on fs and returns the function that runs it.
	Flags func(fs *pflag.FlagSet) func(env Env, args []string) error
	// Sub holds nested subcommands (kign certs check); Flags is nil then.
	Sub []*Command
}

// usageError marks an error as a usage error (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// UsageErrorf returns an error that makes kign exit 2.
func UsageErrorf(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// silentError is a failure whose diagnostics were already printed.
type silentError struct{}

func (silentError) Error() string { return "failed" }

// errReported is returned by commands that printed their own diagnostics.
var errReported = silentError{}

// commands is the table of top-level subcommands, in help order.
func commands() []*Command {
	return []*Command{initCmd(), genCmd(), validateCmd(), artifactsCmd(), certsCmd(), hostsCmd(), serveCmd(), imageCmd(), versionCmd()}
}

// Main runs kign with args (without the program name) and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainEnv(args, Env{Stdout: stdout, Stderr: stderr})
}

// MainEnv is Main with the whole environment, standard input included.
func MainEnv(args []string, env Env) int {
	root := &Command{Name: "kign", Summary: "Ignition configs for Kubernetes control-plane hosts", Sub: commands()}
	return run(root, []string{"kign"}, args, env)
}

func run(c *Command, path, args []string, env Env) int {
	if c.Sub != nil {
		if len(args) == 0 {
			fmt.Fprintf(env.Stderr, "%s: missing command\n", strings.Join(path, " "))
			printGroupUsage(env.Stderr, c, path)
			return ExitUsage
		}
		switch args[0] {
		case "-h", "--help", "help":
			printGroupUsage(env.Stdout, c, path)
			return ExitOK
		}
		for _, s := range c.Sub {
			if s.Name == args[0] {
				return run(s, append(path, s.Name), args[1:], env)
			}
		}
		fmt.Fprintf(env.Stderr, "%s: unknown command %q\n", strings.Join(path, " "), args[0])
		printGroupUsage(env.Stderr, c, path)
		return ExitUsage
	}
	name := strings.Join(path, " ")
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	exec := c.Flags(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", name)
		return ExitUsage
	}
	if *help {
		printUsage(env.Stdout, c, name, fs)
		return ExitOK
	}
	err := exec(env, fs.Args())
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "%s: %s\n", name, ue.msg)
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", name)
		return ExitUsage
	case errors.Is(err, errReported):
		return ExitFailure
	default:
		fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
		return ExitFailure
	}
}

func printGroupUsage(w io.Writer, c *Command, path []string) {
	name := strings.Join(path, " ")
	fmt.Fprintf(w, "%s — %s\n\nUsage:\n  %s COMMAND [flags]\n\nCommands:\n", name, c.Summary, name)
	for _, s := range c.Sub {
		fmt.Fprintf(w, "  %-10s %s\n", s.Name, s.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", name)
}

func printUsage(w io.Writer, c *Command, name string, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s — %s\n\nUsage:\n  %s %s\n\nFlags:\n%s", name, c.Summary, name, c.Usage, fs.FlagUsages())
}

// noArgs refuses positional arguments.
func noArgs(args []string) error {
	if len(args) > 0 {
		return UsageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

func versionCmd() *Command {
	return &Command{
		Name: "version", Summary: "print kign's version", Usage: "",
		Flags: func(fs *pflag.FlagSet) func(Env, []string) error {
			return func(env Env, args []string) error {
				if err := noArgs(args); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "kign %s\n", Version)
				return nil
			}
		},
	}
}
