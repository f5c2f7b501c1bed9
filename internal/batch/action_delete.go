package batch

import (
	"context"
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// deleteSpec: AdminDeleteUser, irreversible. With --only-disabled-for the
// user is read first and deleted only if disabled long enough; with
// --backup it is kept before the call (backup.go).
func deleteSpec() spec {
	return spec{
		admin:       true,
		destructive: true,
		readFirst:   func(o Options) bool { return o.OnlyDisabledFor > 0 },
		judge:       judgeDisabledFor,
		backsUp:     true,
		quota:       UserUpdate,
		call: func(j *Job, t task) callFn {
			return func(ctx context.Context) (string, error) { return j.Users.DeleteUser(ctx, t.Pool, t.Username) }
		},
		done:       report.Deleted,
		would:      would(Delete),
		goneIsDone: true,
	}
}

// judgeDisabledFor keeps, under --only-disabled-for, users that are
// enabled or were disabled (or modified) too recently.
func judgeDisabledFor(j *Job, u cognito.User) (report.Outcome, string) {
	if j.OnlyDisabledFor <= 0 {
		return "", ""
	}
	if u.Enabled {
		return report.SkippedNotDisabled, ""
	}
	if age := j.now().Sub(u.Modified); age < j.OnlyDisabledFor {
		return report.SkippedTooRecent, fmt.Sprintf("disabled or modified %s ago, less than %s", age.Round(time.Second), j.OnlyDisabledFor)
	}
	return "", ""
}
