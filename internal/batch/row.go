package batch

import (
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/target"
)

// prepare validates a row. It returns either a task for a worker or, for a
// row decided without any call, its record.
func (j *Job) prepare(row input.Row) (task, *report.Record) {
	var from task
	if j.Restore != nil && row.Err == "" {
		var rec *report.Record
		if from, rec = j.fromBackup(row); rec != nil {
			return from, rec
		}
		row = from.row
	}
	tg, rej := target.Resolve(row, j.rules())
	t := task{row: row, Target: tg, entry: from.entry, via: from.via}
	rec := func(o report.Outcome, msg string) (task, *report.Record) {
		r := j.record(t)
		r.Outcome, r.Message = o, msg
		return t, &r
	}
	if rej != nil {
		return rec(report.Invalid, rej.Message)
	}
	if t.By.Admin() && t.Email == "" && j.Protected != nil && j.Protected(t.Pool, t.Username) {
		return rec(report.Protected, "user is protected")
	}
	if j.Dups != nil {
		if first, dup := j.Dups.See(target.Key(row, j.Pool), row.N); dup {
			what := "user"
			if t.By == target.ByToken {
				what = "access token"
			}
			return rec(report.Duplicate, fmt.Sprintf("same %s as row %d", what, first))
		}
	}
	return t, nil
}

// rules are what the run accepts of its rows (internal/target).
func (j *Job) rules() target.Rules {
	return target.Rules{
		Action: string(j.Action), Admin: j.Action.AdminCapable(), Token: j.Action.TokenCapable(),
		Pool: j.Pool, Region: j.Region, Confirmed: j.ConfirmedPools, Destructive: j.Action.Destructive(),
	}
}

func (j *Job) record(t task) report.Record {
	r := t.Target.Record(t.row)
	r.Action, r.At = string(j.Action), j.now()
	if t.via != "" {
		r.Input, r.ResolvedBy = t.via, "backup"
	}
	return r
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}
