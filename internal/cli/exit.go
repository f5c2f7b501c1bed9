package cli

import "github.com/cogsweep/cogsweep/internal/run"

// Exit codes: part of the contract (README "Exit codes"). The table lives
// with the error types it reads, in internal/run.
const (
	ExitOK          = run.ExitOK
	ExitUsage       = run.ExitUsage
	ExitRowProblems = run.ExitRowProblems
	ExitAborted     = run.ExitAborted
	ExitInterrupted = run.ExitInterrupted
)

// The errors a command returns, by class.
type (
	UsageError  = run.UsageError
	GuardError  = run.GuardError
	RowProblems = run.RowProblems
	SettleError = run.SettleError
)

// ExitCode maps an error from a command to the process exit code.
func ExitCode(err error) int { return run.ExitCode(err) }

// usage wraps err as a UsageError: a command line problem, exit 2.
func usage(err error) error { return &UsageError{Err: err} }
