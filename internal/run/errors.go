package run

import (
	"errors"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// Exit codes: part of the contract (README "Exit codes").
const (
	ExitOK          = 0
	ExitUsage       = 2  // bad flags or input, before any call
	ExitRowProblems = 3  // finished; some rows invalid or failed
	ExitAborted     = 4  // run-wide fault or a safety guard; untried rows not_attempted
	ExitInterrupted = 75 // SIGINT/SIGTERM/SIGHUP: run the same command again to resume (EX_TEMPFAIL)
)

// UsageError is a problem with flags or input found before any call.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usage wraps err as a UsageError.
func usage(err error) error { return &UsageError{Err: err} }

// GuardError is a safety guard refusing the run before the first mutating
// call.
type GuardError struct {
	Guard string
	Err   error
	// Predicted marks a dry run's forecast: the real run would be refused.
	Predicted bool
}

func (e *GuardError) Error() string {
	if e.Predicted {
		return "dry run: the real run would be refused by " + e.Guard + ": " + e.Err.Error()
	}
	return "refused by " + e.Guard + ": " + e.Err.Error()
}
func (e *GuardError) Unwrap() error { return e.Err }

// RowProblems is returned by a run that finished but left some rows
// invalid, failed or not attempted.
type RowProblems struct{ N int }

func (e *RowProblems) Error() string { return "some rows were not done: see the report" }

// SettleError is a failure to write the report or the checkpoint after the
// rows ran: the run's own outcome (Run, nil when it finished) cannot be
// recorded. It is always exit 4, whatever Run was (contract: the run exits 4
// naming both causes).
type SettleError struct {
	Run error
	Err error
}

func (e *SettleError) Error() string {
	if e.Run == nil {
		return e.Err.Error()
	}
	return e.Run.Error() + "; and then: " + e.Err.Error()
}

func (e *SettleError) Unwrap() []error {
	if e.Run == nil {
		return []error{e.Err}
	}
	return []error{e.Run, e.Err}
}

func settleFailed(run, err error) error { return &SettleError{Run: run, Err: err} }

// ExitCode maps an error from Run to the process exit code.
func ExitCode(err error) int {
	var (
		ue *UsageError
		ge *GuardError
		fe *retry.FatalError
		rp *RowProblems
		se *SettleError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		return ExitAborted
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, batch.ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &ge), errors.As(err, &fe):
		return ExitAborted
	case errors.As(err, &rp):
		return ExitRowProblems
	}
	// Anything else stopped the run midway (a report that cannot be
	// written, an unreadable input after the start): aborted.
	return ExitAborted
}
