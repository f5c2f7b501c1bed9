package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/report"
)

// deleteAttributesSpec: AdminDeleteUserAttributes for a row naming its
// user, DeleteUserAttributes for a row with only an access token. What is
// deleted cannot be restored.
func deleteAttributesSpec() spec {
	return spec{
		admin:       true,
		token:       true,
		destructive: true,
		quota:       UserUpdate,
		call: func(j *Job, t task) callFn {
			if t.Token != "" {
				return func(ctx context.Context) (string, error) {
					return j.Users.SelfDeleteAttributes(ctx, t.Token, j.Attributes)
				}
			}
			return func(ctx context.Context) (string, error) {
				return j.Users.DeleteAttributes(ctx, t.Pool, t.Username, j.Attributes)
			}
		},
		done:  report.AttributesDeleted,
		would: would(DeleteAttributes),
	}
}
