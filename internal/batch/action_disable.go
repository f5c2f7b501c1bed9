package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// disableSpec: AdminDisableUser. The user is read first: an already
// disabled user costs no UserUpdate call and is reported as such, so a
// rollback re-enables exactly the users this run disabled.
func disableSpec() spec {
	return spec{
		admin:     true,
		readFirst: func(Options) bool { return true },
		judge: func(_ *Job, u cognito.User) (report.Outcome, string) {
			if !u.Enabled {
				return report.AlreadyDisabled, ""
			}
			return "", ""
		},
		quota: UserUpdate,
		call: func(j *Job, t task) callFn {
			return func(ctx context.Context) (string, error) { return j.Users.DisableUser(ctx, t.Pool, t.Username) }
		},
		done:  report.Disabled,
		would: would(Disable),
	}
}
