package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// The pre-flight's last step: one read as the first callable row, so that a
// missing IAM permission stops the run before its first write.

// maxAccessScan bounds the rows the pre-flight looks through for one it can
// read (the first rows may be invalid).
const maxAccessScan = 1000

// checkAccess is the pre-flight's last step, after the pool check and the
// guards: one read of the first row's user, so a missing permission stops
// the run before its first write with one message naming the IAM action.
// Email rows check ListUsers (their resolution) first. Cognito has no dry
// run of permissions: the action's own call (AdminDeleteUser, ...) cannot
// be checked without making it. A user that does not exist is fine here:
// the service answered, so the permission is there.
//
// Runs that read every user before writing it (disable, dry runs, delete
// with --only-disabled-for or --backup) need no extra call: no row is
// written before its own read succeeded, and a denied read (AccessDenied,
// naming the IAM action) stops the run at once.
//
// A row's pool that does not exist is no reason to stop (its rows fail on
// their own, CONTRACT): the check moves on to a row of another pool, for a
// few missing pools at most.
func (r *plan) checkAccess(ctx context.Context, a *admission) error {
	o := r.o
	readsFirst := o.DryRun || o.Action == batch.Disable ||
		(o.Action == batch.Delete && (o.OnlyDisabledFor > 0 || a.backup != nil))
	if !r.hasAdminRows() || r.scan.Rows == 0 || !o.Action.AdminCapable() || readsFirst {
		return nil
	}
	tries := 0
	for _, c := range r.tally.firsts {
		if r.poolMissing(c.pool) {
			continue
		}
		if tries++; tries > maxMissingPoolsChecked {
			return nil
		}
		err := r.checkAccessRow(ctx, a, c.row, c.pool)
		if !errors.Is(err, errPoolMissing) {
			return err
		}
		r.pools.remember(c.pool, cognito.Pool{}, false)
		r.log.Warn("user pool of a row does not exist: its rows will fail (ResourceNotFoundException), the others go on", "pool", c.pool, "row", c.row.N)
	}
	if tries < maxMissingPoolsChecked {
		r.log.Info("pre-flight: no valid row among the first ones to check read access with", "rows_looked_at", maxAccessScan)
	}
	return nil
}

// maxMissingPoolsChecked bounds the pools checkAccess tries before it gives
// up looking for one that exists.
const maxMissingPoolsChecked = 4

// errPoolMissing is checkAccessRow's answer for a row's pool that does not
// exist.
var errPoolMissing = errors.New("user pool does not exist")

// poolMissing reports a pool the run already found not to exist.
func (r *plan) poolMissing(pool string) bool {
	d, ok := r.pools[pool]
	return ok && !d.exists
}

// checkAccessRow reads row's user in pool (checkAccess).
func (r *plan) checkAccessRow(ctx context.Context, a *admission, row input.Row, pool string) error {
	c, region := a.users, r.region
	refuse := func(action string, res retry.Result) error {
		switch {
		case res.Err == nil, res.Class == retry.NotFound:
			return nil
		case res.Code == "ResourceNotFoundException" && pool != r.o.UserPoolID:
			return errPoolMissing
		case ctx.Err() != nil:
			return r.stopped(ctx, action)
		case res.Code == "AccessDeniedException":
			who := "the credentials"
			if a.caller != nil {
				who = a.caller.ARN
			}
			return &retry.FatalError{Code: res.Code, Err: fmt.Errorf(
				"pre-flight: %s may not call cognito-idp:%s on user pool %s: add that action to its IAM policy (the run needs it; checked by reading the user of row %d)",
				who, action, pool, row.N)}
		case res.Code == "ResourceNotFoundException":
			return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("pre-flight: user pool %s (row %d) does not exist in %s", pool, row.N, region)}
		}
		return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("pre-flight: %s on user pool %s (row %d): %w", action, pool, row.N, res.Err)}
	}
	call := func(action string, fn func(ctx context.Context) error) error {
		return refuse(action, r.pacer.Call(ctx, pacer.Control, fn))
	}

	user := row.Username
	if user == "" {
		user = row.Sub
	}
	if user == "" {
		desc, exists, err := r.describe(ctx, c, pool) // cached with the guards' (safety.go)
		switch {
		case err != nil:
			return err
		case !exists && pool != r.o.UserPoolID:
			return errPoolMissing
		case !exists:
			return &retry.FatalError{Code: "ResourceNotFoundException", Err: fmt.Errorf("pre-flight: user pool %s (row %d) does not exist in %s", pool, row.N, region)}
		}
		if desc.EmailSignIn() {
			user = row.Email
		} else {
			err := call("ListUsers", func(ctx context.Context) error {
				names, _, _, err := c.FindByEmail(ctx, pool, row.Email, "")
				if len(names) == 1 {
					user = names[0]
				}
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	if user == "" {
		return nil // no user to read: ListUsers was the read
	}
	return call("AdminGetUser", func(ctx context.Context) error {
		_, _, err := c.GetUser(ctx, pool, user)
		return err
	})
}
