package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/report"
)

// enableSpec: AdminEnableUser, for enable and for rollback (whose rows the
// caller chose from a disable report).
func enableSpec() spec {
	return spec{
		admin: true,
		quota: UserUpdate,
		call: func(j *Job, t task) callFn {
			return func(ctx context.Context) (string, error) { return j.Users.EnableUser(ctx, t.Pool, t.Username) }
		},
		done:  report.Enabled,
		would: would(Enable),
	}
}
