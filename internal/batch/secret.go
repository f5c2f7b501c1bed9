package batch

import (
	"github.com/cogsweep/cogsweep/internal/redact"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// maxMessage bounds a report's message.
const maxMessage = 500

// scrubber is the row's: it removes the row's token, any 16 characters of
// it, and JWT shapes (a row without a token gets the last alone).
func (t task) scrubber() *redact.Scrubber { return redact.For(t.Token) }

// scrubRecord cleans every field of rec that carries text from the service
// (or from anything between): error code, message and request id. The
// retry decision was made before, from the code as sent.
func scrubRecord(rec *report.Record, sc *redact.Scrubber) {
	rec.ErrorCode = sc.Code(rec.ErrorCode)
	rec.RequestID = sc.RequestID(rec.RequestID)
	if len(rec.Message) > 8*maxMessage {
		rec.Message = rec.Message[:8*maxMessage] // bounds the scrubber's work
	}
	rec.Message = sc.Text(rec.Message)
	if len(rec.Message) > maxMessage {
		rec.Message = rec.Message[:maxMessage]
	}
}

// redacted is an error whose text had the row's secrets scrubbed out. It
// still unwraps to the original so errors.As finds the AWS error.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// redactErr returns err with its text scrubbed by sc.
func redactErr(err error, sc *redact.Scrubber) error {
	if err == nil {
		return nil
	}
	return &redacted{msg: sc.Text(err.Error()), err: err}
}

// fatal is the run-wide fault a row met, its code and text scrubbed.
func fatal(code string, row int, err error, sc *redact.Scrubber) *retry.FatalError {
	return &retry.FatalError{Code: sc.Code(code), Row: row, Err: redactErr(err, sc)}
}
