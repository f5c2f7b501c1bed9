package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/report"
)

// signOutSpec: AdminUserGlobalSignOut, which revokes the user's tokens.
func signOutSpec() spec {
	return spec{
		admin: true,
		quota: UserUpdate,
		call: func(j *Job, t task) callFn {
			return func(ctx context.Context) (string, error) { return j.Users.GlobalSignOut(ctx, t.Pool, t.Username) }
		},
		done:  report.SignedOut,
		would: would(SignOut),
	}
}
