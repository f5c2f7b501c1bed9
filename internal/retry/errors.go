package retry

import (
	"fmt"

	"github.com/cogsweep/cogsweep/internal/redact"
)

// Error attaches a Decision to an error so that callers anywhere up the stack
// can read the class with errors.As, through any amount of wrapping. Classify
// returns the attached Decision unchanged, so a fake or an adapter can
// pre-classify an error.
//
// Its message is the wrapped error's message with the class and code in
// front; it adds nothing else (in particular no request parameters, so no
// access token can leak through it).
type Error struct {
	Decision
	Err error
}

// Wrap attaches d to err. It returns nil for a nil err.
func Wrap(d Decision, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Decision: d, Err: err}
}

// Error returns "<class> <code>: <wrapped message>".
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Class.String() + " " + e.Code
	}
	return e.Class.String() + " " + e.Code + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// FatalError is a run-wide fault: the run stops because of it, whether the
// pipeline met it on a row's call (a Fatal class, a streak, a journal that
// cannot be written) or the run met it outside the pipeline (pre-flight,
// --select, the guards' pool sizes, storage configuration). It is the class
// "fatal" as a type that errors.As finds through any wrapping, so that one
// place maps it to an exit code.
type FatalError struct {
	Code string // the AWS error code or our own name for the fault
	Row  int    // the row whose call met it
	Err  error
}

// Error is the fault's text, which goes to the log, stderr and the
// checkpoint: a row's faults were scrubbed of its token when made (batch's
// fatal), and JWT shapes are removed here from any fault's text.
func (e *FatalError) Error() string {
	if e.Row == 0 {
		return redact.Text(fmt.Sprintf("%s: %v", e.Code, e.Err))
	}
	return redact.Text(fmt.Sprintf("run stopped at row %d: %s: %v", e.Row, e.Code, e.Err))
}

// Unwrap returns the wrapped error.
func (e *FatalError) Unwrap() error { return e.Err }
