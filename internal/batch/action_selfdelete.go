package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/report"
)

// selfDeleteSpec: DeleteUser with the user's own access token; no IAM
// call, no pool. A token that is refused after our earlier call may have
// run died with its user.
func selfDeleteSpec() spec {
	return spec{
		token: true,
		quota: UserUpdate,
		call: func(j *Job, t task) callFn {
			return func(ctx context.Context) (string, error) { return j.Users.SelfDelete(ctx, t.Token) }
		},
		done:            report.SelfDeleted,
		would:           would(SelfDelete),
		deadTokenIsDone: true,
	}
}
