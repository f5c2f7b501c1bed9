// Package cli is cogsweep's command line: sub-commands on cobra, flags
// bound into option structs, and the mapping of errors to exit codes.
//
// It may import run and the few types run's options and results name (batch's
// actions, report's outcomes, reportpage's renderers), cobra and pflag; it
// reads no file and makes no call. Only cmd/cogsweep and the benchmark's
// no-op binary import it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/buildinfo"
	"github.com/cogsweep/cogsweep/internal/redact"
	"github.com/cogsweep/cogsweep/internal/run"
)

// Env is the process environment a command runs in; tests pass their own.
type Env = run.Env

// Backend is every Cognito and STS call a run makes (internal/run).
type Backend = run.Backend

// Version is set at build time (-ldflags "-X ...cli.Version=v1.2.3").
var Version = "dev"

// Commit is the VCS commit the binary was built from, when the build could
// not stamp it itself (-buildvcs=false, a source tarball): set it with
// -ldflags "-X github.com/cogsweep/cogsweep/internal/cli.Commit=...".
var Commit = ""

// errUsageShown is a usage error whose text has been printed already.
var errUsageShown = errors.New("usage shown")

// Main runs the command in args and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Version == "" {
		env.Version, env.Commit = Version, Commit
	}
	root := newRoot(ctx, env)
	if err := checkCommand(root, args); err != nil {
		return finish(env, err)
	}
	root.SetArgs(args)
	_, err := root.ExecuteC()
	return finish(env, err)
}

// newRoot builds the command tree. Help goes to stdout (| less, | grep);
// errors are printed by finish, not by cobra, so that each is one line.
func newRoot(ctx context.Context, env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "cogsweep",
		Version:       buildinfo.Read(env.Version, env.Commit).String(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			writeRootHelp(env.Stderr, c, termWidth(env.Stderr))
			return usage(errUsageShown)
		},
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.SetVersionTemplate("cogsweep {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError(c, err) })
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	root.AddGroup(&cobra.Group{ID: groupActions, Title: "Actions (each reads a CSV or NDJSON file of users):"},
		&cobra.Group{ID: groupOther, Title: "Other commands:"})
	root.SetHelpCommandGroupID(groupOther)
	root.SetCompletionCommandGroupID(groupOther)
	for _, a := range batch.Actions {
		root.AddCommand(actionCommand(ctx, a, env))
	}
	root.AddCommand(statusCommand(env), mergeCommand(env), reportCommand(env), versionCommand(env))
	root.Flags().BoolP("version", "v", false, "print the version")
	return root
}

// checkCommand refuses an unknown command (or sub-command, or help topic)
// before cobra parses the flags after it against its parent's: "delet
// --rate 5" is an unknown command, not an unknown flag, and "help delet"
// is not the top-level help.
func checkCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "__") {
		return nil // cobra's hidden completion commands
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	if args[0] == "help" {
		args = args[1:]
	}
	c := root
	for _, a := range args {
		if strings.HasPrefix(a, "-") || !c.HasSubCommands() {
			return nil
		}
		next, _, err := c.Find([]string{a})
		if err != nil || next == c {
			return unknownCommand(c, a)
		}
		c = next
	}
	return nil
}

// versionCommand is `cogsweep version`: the same line as --version and as
// the audit record's tool_version.
func versionCommand(env Env) *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "print the version", GroupID: groupOther,
		Long:    "Print the version: the release (or module version), its commit, whether the tree was modified (dirty), and the Go version. The audit record of every run keeps the same line (tool_version).",
		Example: "cogsweep version",
		Args:    noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), "cogsweep", buildinfo.Read(env.Version, env.Commit))
			return err
		},
	}
}

// noArgs refuses positional arguments as a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usage(fmt.Errorf("unexpected argument %q (flags only; see --help)", args[0]))
	}
	return nil
}

// finish prints err, if any, and maps it to an exit code.
func finish(env Env, err error) int {
	var ce *cmdLineError
	if errors.As(err, &ce) {
		ce.print(env.Stderr)
		return ExitUsage
	}
	code := ExitCode(err)
	var rp *RowProblems
	if err != nil && !errors.As(err, &rp) && !errors.Is(err, errUsageShown) {
		fmt.Fprintf(env.Stderr, "cogsweep: %s\n", redact.Text(err.Error()))
	}
	return code
}
