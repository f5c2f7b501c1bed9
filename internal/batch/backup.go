package batch

import (
	"context"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// Backup keeps a copy of each user before delete removes it.
type Backup interface {
	// Save stores the user of row, read just before its deletion, with its
	// groups. It returns only once the copy is durable (fsync'd): the
	// delete call is made after it, so a crash never loses the copy of a
	// deleted user. Workers call it concurrently.
	Save(row int, pool string, u cognito.User, groups []string) error
}

// backUp reads the user (unless process already did: have) and its groups,
// and saves them. A failed read is returned as its result, for process to
// turn into the row's outcome; a failed save is err, which stops the run:
// no later delete could be backed up either.
func (j *Job) backUp(do func(Limiter, callFn) retry.Result, t task, u cognito.User, have bool) (r retry.Result, err error) {
	pool, user := t.Pool, t.Username
	if !have {
		r = do(j.Reads, func(ctx context.Context) (string, error) {
			var id string
			var err error
			u, id, err = j.Users.GetUser(ctx, pool, user)
			return id, err
		})
		if r.Err != nil {
			return r, nil
		}
	}
	var groups []string
	if j.Lookups != nil {
		r = do(j.Reads, func(ctx context.Context) (string, error) {
			var id string
			var err error
			groups, id, err = j.Lookups.UserGroups(ctx, pool, user)
			return id, err
		})
		if r.Err != nil {
			return r, nil
		}
	}
	if u.Username == "" {
		u.Username = user
	}
	return r, j.Backup.Save(t.row.N, pool, u, groups)
}
