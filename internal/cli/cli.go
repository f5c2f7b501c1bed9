// Package cli is cogsweep's command line: sub-commands, flags bound into
// option structs, and the mapping of errors to exit codes.
//
// It may import run and the few types run's options and results name (batch's
// actions, report's outcomes, reportpage's renderers); it reads no file and
// makes no call. Only cmd/cogsweep and the benchmark's no-op binary import it.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cogsweep/cogsweep/internal/batch"
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

const usageText = `cogsweep disables, deletes and scrubs Amazon Cognito user-pool users in bulk,
at a rate the account's quota allows, and can be killed and resumed at any time.

Usage:
  cogsweep <command> [flags]

Actions (each reads a CSV or NDJSON file of users):
  disable            AdminDisableUser (reads each user first; already disabled users cost no write)
  delete             AdminDeleteUser (irreversible: needs --confirm-pool-id)
  enable             AdminEnableUser
  sign-out           AdminUserGlobalSignOut: revoke every session
  delete-attributes  AdminDeleteUserAttributes, or DeleteUserAttributes for rows with an access_token
  self-delete        DeleteUser with each row's access_token (no IAM credentials used)
  rollback           re-enable exactly the users a disable report says it disabled
  restore            AdminCreateUser from a delete's --backup: attributes, groups, enabled state

Other commands:
  status             progress of a run from its checkpoint
  merge-reports      join the reports of a sharded job (--shard I/N) into one
  report             summarize a run from its report, as text or as an HTML page (--html)
  version            print the version

Examples:
  cogsweep disable --user-pool-id us-east-1_AbC123 --input leavers.csv --report leavers.report.ndjson
  cogsweep delete --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 \
      --input - --format ndjson < purge.ndjson
  cogsweep status --checkpoint leavers.checkpoint
  cogsweep report leavers.disable.report.ndjson --html leavers.html

Exit codes:
  0   finished; every row ended well (disabled, deleted, not_found, duplicate, ...)
  2   usage or input error before any call (bad flags, unreadable input, no usable
      column, checkpoint of another input, checkpoint held by a live run)
  3   finished; some rows invalid or failed (see the report)
  4   aborted by a run-wide fault (credentials, missing pool, failing service) or
      refused by a safety guard; rows not tried are not_attempted
  75  interrupted by SIGINT, SIGTERM or SIGHUP: run the same command again to resume

Run 'cogsweep <command> --help' for the flags of a command.
Every flag can also be set by an environment variable: --max-users is COGSWEEP_MAX_USERS.
`

// Main runs the command in args and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Version == "" {
		env.Version, env.Commit = Version, Commit
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usageText)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, usageText)
		return ExitOK
	case "version", "--version":
		fmt.Fprintln(env.Stdout, "cogsweep", versionString())
		return ExitOK
	case "status":
		return finish(env, runStatus(rest, env))
	case "merge-reports":
		return finish(env, runMerge(rest, env))
	case "report":
		return finish(env, runReport(rest, env))
	}
	for _, a := range batch.Actions {
		if cmd == string(a) {
			return finish(env, runAction(ctx, a, rest, env))
		}
	}
	fmt.Fprintf(env.Stderr, "cogsweep: unknown command %q\n\n%s", cmd, usageText)
	return ExitUsage
}

// finish prints err, if any, and maps it to an exit code.
func finish(env Env, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	code := ExitCode(err)
	var rp *RowProblems
	if err != nil && !errors.As(err, &rp) {
		fmt.Fprintf(env.Stderr, "cogsweep: %s\n", redact.Text(err.Error()))
	}
	return code
}

func versionString() string { return run.VersionString(Version) }

// newFlagSet returns a flag set whose --help text has a header and an
// example, and whose errors become usage errors.
func newFlagSet(name, synopsis, example string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cogsweep "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: cogsweep %s [flags]\n\n%s\n\nExample:\n  %s\n\nFlags:\n", name, synopsis, example)
		fs.PrintDefaults()
		fmt.Fprintf(out, "\nEvery flag can be set by an environment variable: --%s is %s.\nExit codes: 0 ok, 2 usage, 3 some rows invalid/failed, 4 aborted or refused, 75 interrupted (resumable).\n",
			"max-users", envName("max-users"))
	}
	return fs
}

var synopses = map[batch.Action][2]string{
	batch.Disable: {"Disable each user of the input (AdminDisableUser). Each user is read first (AdminGetUser):\nalready disabled users are reported already_disabled without a write, so rollback stays exact.",
		"cogsweep disable --user-pool-id us-east-1_AbC123 --input leavers.csv"},
	batch.Delete: {"Delete each user of the input (AdminDeleteUser). Irreversible: needs --confirm-pool-id naming the\npool unless you confirm at a terminal prompt; refuses plans larger than --max-fraction of the pool.",
		"cogsweep delete --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 --input purge.csv"},
	batch.Enable: {"Enable each user of the input (AdminEnableUser).",
		"cogsweep enable --user-pool-id us-east-1_AbC123 --input returning.csv"},
	batch.SignOut: {"Sign each user out of every device (AdminUserGlobalSignOut): revokes their tokens.",
		"cogsweep sign-out --user-pool-id us-east-1_AbC123 --input compromised.csv"},
	batch.DeleteAttributes: {"Delete attributes of each user: AdminDeleteUserAttributes for rows with a username,\nDeleteUserAttributes for rows with only an access_token. Custom attributes take the custom: prefix.",
		"cogsweep delete-attributes --attributes phone_number,custom:department --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 --input scrub.csv"},
	batch.SelfDelete: {"Delete each user with their own access token (DeleteUser): rows need an access_token column.\nNo IAM credentials and no pool are used, only a region. Tokens never appear in logs or reports: a row\nshows its 12-hex fingerprint and the username claim read from the token (not verified).",
		"cogsweep self-delete --region us-east-1 --input deletion-requests.ndjson"},
	batch.Rollback: {"Re-enable exactly the users that a disable run's report says it disabled. Users that were already\ndisabled before that run (already_disabled) stay disabled; other lines end skipped. Pool and region\ndefault to the disable run's. Below, its own report is leavers.disable.rollback.report.ndjson.",
		"cogsweep rollback --from-report leavers.disable.report.ndjson"},
	batch.Restore: {"Create again the users a delete --backup kept (AdminCreateUser, no invitation unless\n--resend-invitation), with their writable attributes, groups and enabled state. A user of that name in\nthe pool is never overwritten (already_exists). --input picks users of the backup; the pool defaults\nto the backup's, and another needs --to-pool. Users sign in again only after a password reset.",
		"cogsweep restore --from-backup leavers.backup.ndjson --input wrongly-deleted.csv"},
}
