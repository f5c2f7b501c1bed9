package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

var _ batch.Backup = (*backup.Writer)(nil)

// maxAccessScan bounds the rows the pre-flight looks through for one it can
// read (the first rows may be invalid).
const maxAccessScan = 1000

// checkCaller is the pre-flight's first step: STS GetCallerIdentity. The
// call needs no IAM permission, so it proves exactly that the credentials
// work, and it names the caller for the audit. It also opens --backup, so
// an unusable backup path stops the run before any Cognito call. Runs
// without admin rows use no IAM credentials and skip it.
func (r *plan) checkCaller(ctx context.Context, a *admission) error {
	if !r.hasAdminRows() || r.scan.Rows == 0 {
		return nil
	}
	var err error
	if a.backup, err = r.openBackup(); err != nil {
		return err
	}
	// With --endpoint-url (moto, the local fake) and no STS endpoint of its
	// own, STS is asked at the same URL: emulators serve both, and asking
	// real AWS with test credentials could only fail. An emulator without
	// STS (cognito-local) then leaves the caller unchecked, with a warning:
	// it answers, with an error. An endpoint that does not answer at all
	// (refused, timed out) is another matter: the run stops (stsFailed).
	endpoint, local := r.o.STSEndpointURL, false
	if endpoint == "" && r.o.EndpointURL != "" && r.env.Getenv("AWS_ENDPOINT_URL_STS") == "" && r.env.Getenv("AWS_ENDPOINT_URL") == "" {
		endpoint, local = r.o.EndpointURL, true
	}
	pc := r.pacer
	if local {
		pc = pc.Attempts(2)
	}
	var caller cognito.Caller
	res := pc.Call(ctx, pacer.Control, func(ctx context.Context) error {
		var err error
		caller, err = a.users.CallerIdentity(ctx, endpoint)
		return err
	})
	if err := r.ssoLogin(a.cfg, res); err != nil {
		return err // sso.go
	}
	if res.Err != nil {
		return r.stsFailed(ctx, res, local)
	}
	a.caller = &caller
	return nil
}

// stsFailed decides what a failed GetCallerIdentity means. The endpoint
// answered without STS (an emulator: 404, an unknown operation, a 500 page):
// the caller is unchecked and the run goes on. It did not answer (refused,
// timed out, reset): exit 4, whatever the endpoint. Else the credentials do
// not work. Decided by the error's type and code (retry), never its text.
func (r *plan) stsFailed(ctx context.Context, res retry.Result, local bool) error {
	switch {
	case ctx.Err() != nil:
		return r.stopped(ctx, "STS GetCallerIdentity")
	case !retry.Answered(res.Err) && res.Class.Transient():
		return &batch.FatalError{Code: res.Code, Err: fmt.Errorf(
			"pre-flight: the STS endpoint did not answer GetCallerIdentity (%s, %d attempts): check the network and the endpoint (--endpoint-url, --sts-endpoint-url, AWS_ENDPOINT_URL_STS)", res.Code, res.Attempts)}
	case local && res.Class != retry.Fatal:
		r.log.Warn("the --endpoint-url serves no STS: the caller is unchecked (give --sts-endpoint-url to check it)", "error", res.Code)
		return nil
	}
	return &batch.FatalError{Code: res.Code, Err: fmt.Errorf(
		"pre-flight: the AWS credentials do not work (STS GetCallerIdentity: %v): check --profile / AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, that a session token has not expired, and the STS endpoint (--sts-endpoint-url, AWS_ENDPOINT_URL_STS)", res.Err)}
}

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
			return &batch.FatalError{Code: res.Code, Err: fmt.Errorf(
				"pre-flight: %s may not call cognito-idp:%s on user pool %s: add that action to its IAM policy (the run needs it; checked by reading the user of row %d)",
				who, action, pool, row.N)}
		case res.Code == "ResourceNotFoundException":
			return &batch.FatalError{Code: res.Code, Err: fmt.Errorf("pre-flight: user pool %s (row %d) does not exist in %s", pool, row.N, region)}
		}
		return &batch.FatalError{Code: res.Code, Err: fmt.Errorf("pre-flight: %s on user pool %s (row %d): %w", action, pool, row.N, res.Err)}
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
			return &batch.FatalError{Code: "ResourceNotFoundException", Err: fmt.Errorf("pre-flight: user pool %s (row %d) does not exist in %s", pool, row.N, region)}
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

// poolCache is the pipeline's DescribeUserPool cache, primed with the pools
// the pre-flight and the guards described.
func (r *plan) poolCache() *batch.PoolCache {
	c := batch.NewPoolCache()
	for id, d := range r.pools {
		if d.exists {
			p := d.pool
			p.ID = id
			c.Put(p)
		}
	}
	return c
}

// attachIdentity gives the job what email rows and --backup need.
func (r *plan) attachIdentity(job *batch.Job, a *admission, f *opened) error {
	r.logAudit(f.header.Audit, a.caller)
	users := a.users
	if users == nil {
		return nil // nothing left to call
	}
	job.Lookups = users
	job.Lists = r.pacer.Limiter(pacer.UserList)
	job.Pools = r.poolCache()
	job.Missing = batch.NewMissingPools()
	for id, d := range r.pools {
		if !d.exists {
			job.Missing.Add(id) // the pre-flight or the guards found it missing
		}
	}
	if a.backup != nil {
		job.Backup = a.backup
	}
	if r.scan.Columns.Email {
		job.Resolved = batch.NewResolvedUsers()
		n, err := seedResolved(job.Resolved, f.files.Report, job.Skip)
		if err != nil {
			return err
		}
		if n > 0 {
			r.log.Info("resume: users that email rows of earlier runs resolved to", "users", n)
		}
	}
	return nil
}

// seedResolved claims, for a resumed run, the users that settled email rows
// of earlier runs resolved to with ListUsers, so a later row naming the same
// user is a duplicate as it would have been without the interruption. Rows
// that were themselves duplicates claimed nothing.
func seedResolved(set *batch.ResolvedUsers, reportPath string, settled func(int) bool) (int, error) {
	marker := []byte(`"resolved_by":"` + batch.ResolvedListUsers + `"`)
	_, err := report.Scan(reportPath, func(l report.Line) error {
		if !bytes.Contains(l.Raw, marker) || l.Outcome == report.Duplicate || l.Outcome == report.NotAttempted ||
			(settled != nil && !settled(l.Row)) {
			return nil
		}
		var rec report.Record
		if err := json.Unmarshal(l.Raw, &rec); err != nil || rec.Username == "" || rec.ResolvedBy != batch.ResolvedListUsers {
			return nil
		}
		set.Claim(rec.UserPoolID, rec.Username, rec.Row)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("resume: read resolved users from the report: %w", err)
	}
	return set.Len(), nil
}

// openBackup opens --backup for a delete (not for a dry run, which deletes
// nothing). The path may not be one of the run's own files.
func (r *plan) openBackup() (*backup.Writer, error) {
	path := r.o.Backup
	if path == "" || r.o.Action != batch.Delete || r.o.DryRun {
		return nil, nil
	}
	for _, own := range []string{r.reportPath, r.checkpointPath, r.o.Input} {
		if own != "" && samePath(path, own) {
			return nil, usage(fmt.Errorf("--backup %s is the run's own input, report or checkpoint: give another file", path))
		}
	}
	w, err := backup.Open(path)
	if err != nil {
		return nil, usage(err)
	}
	r.log.Info("backing up each user before deleting it", "backup", path)
	return w, nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// validateIdentity checks --backup: local files only, for now.
func (o *Options) validateIdentity() []error {
	if strings.Contains(o.Backup, "://") {
		return []error{fmt.Errorf("--backup %s: %w", o.Backup, backup.ErrRemote)}
	}
	return nil
}
