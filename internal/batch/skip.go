package batch

import (
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/target"
)

// SkipReader is a Reader that already knows some of its rows need no call:
// rollback's rows are the lines of a disable report, and only the lines
// that say disabled are acted on. Run asks about each row right after Next
// returned it, from the same goroutine; a skipped row ends with the outcome
// skipped and reason as its message, before any validation (a line that was
// invalid in the source is skipped, not invalid again).
type SkipReader interface {
	input.Reader
	SkipReason(row input.Row) (reason string, skip bool)
}

// prepareFrom is prepare, after asking rows whether it already knows the
// row needs no call.
func (j *Job) prepareFrom(rows input.Reader, row input.Row) (task, *report.Record) {
	if sr, ok := rows.(SkipReader); ok {
		if reason, skip := sr.SkipReason(row); skip {
			t := task{row: row, Target: target.Target{Username: row.Username, Pool: row.UserPoolID}}
			rec := j.record(t)
			rec.Outcome, rec.Message = report.Skipped, reason
			return t, &rec
		}
	}
	return j.prepare(row)
}
