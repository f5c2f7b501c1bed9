package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

var _ batch.Backup = (*backup.Writer)(nil)

// identityState is what a run knows about who runs it and how its rows
// name users: the caller (STS), the pools described, the users email rows
// resolved to, the --backup file and the audit record.
type identityState struct {
	caller *cognito.Caller
	pools  *batch.PoolCache
	backup *backup.Writer
	audit  map[string]any
}

// maxAccessScan bounds the rows the pre-flight looks through for one it can
// read (the first rows may be invalid).
const maxAccessScan = 1000

// checkCaller is the pre-flight's first step: STS GetCallerIdentity. The
// call needs no IAM permission, so it proves exactly that the credentials
// work, and it names the caller for the audit. It also opens --backup, so
// an unusable backup path stops the run before any Cognito call. Runs
// without admin rows use no IAM credentials and skip it.
func (r *run) checkCaller(ctx context.Context, c Backend) error {
	if !r.hasAdminRows() || r.scan.Rows == 0 {
		return nil
	}
	if err := r.openBackup(); err != nil {
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
	policy := r.policy()
	if local {
		policy.MaxAttempts = min(policy.MaxAttempts, 2)
	}
	var caller cognito.Caller
	res := retry.Do(ctx, retry.Loop{Policy: policy, Kind: retry.IAM, Timeout: r.o.CallTimeout}, func(ctx context.Context) error {
		var err error
		caller, err = c.CallerIdentity(ctx, endpoint)
		return err
	})
	if res.Err != nil {
		return r.stsFailed(ctx, res, local)
	}
	r.ident.caller = &caller
	if r.ident.audit != nil {
		// The header is written after the pre-flight: it gets the caller.
		r.ident.audit["caller"] = caller
	}
	return nil
}

// stsFailed decides what a failed GetCallerIdentity means. The endpoint
// answered without STS (an emulator: 404, an unknown operation, a 500 page):
// the caller is unchecked and the run goes on. It did not answer (refused,
// timed out, reset): exit 4, whatever the endpoint. Else the credentials do
// not work. Decided by the error's type and code (retry), never its text.
func (r *run) stsFailed(ctx context.Context, res retry.Result, local bool) error {
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
func (r *run) checkAccess(ctx context.Context, c Backend, region string) error {
	o := r.o
	readsFirst := o.DryRun || o.Action == batch.Disable ||
		(o.Action == batch.Delete && (o.OnlyDisabledFor > 0 || r.ident.backup != nil))
	if !r.hasAdminRows() || r.scan.Rows == 0 || !o.Action.AdminCapable() || readsFirst {
		return nil
	}
	for range maxMissingPoolsChecked {
		row, pool, ok, err := r.firstAdminRow(region, r.poolMissing)
		if err != nil {
			return err
		}
		if !ok {
			r.log.Info("pre-flight: no valid row among the first ones to check read access with", "rows_looked_at", maxAccessScan)
			return nil
		}
		err = r.checkAccessRow(ctx, c, region, row, pool)
		if !errors.Is(err, errPoolMissing) {
			return err
		}
		r.rememberPool(pool, cognito.Pool{}, false)
		r.log.Warn("user pool of a row does not exist: its rows will fail (ResourceNotFoundException), the others go on", "pool", pool, "row", row.N)
	}
	return nil
}

// maxMissingPoolsChecked bounds the pools checkAccess tries before it gives
// up looking for one that exists (each try reads the input's first rows).
const maxMissingPoolsChecked = 4

// errPoolMissing is checkAccessRow's answer for a row's pool that does not
// exist.
var errPoolMissing = errors.New("user pool does not exist")

// poolMissing reports a pool the run already found not to exist.
func (r *run) poolMissing(pool string) bool {
	d, ok := r.safety.pools[pool]
	return ok && !d.exists
}

// checkAccessRow reads row's user in pool (checkAccess).
func (r *run) checkAccessRow(ctx context.Context, c Backend, region string, row input.Row, pool string) error {
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
			if r.ident.caller != nil {
				who = r.ident.caller.ARN
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
		return refuse(action, retry.Do(ctx, retry.Loop{Policy: r.policy(), Kind: retry.IAM, Timeout: r.o.CallTimeout}, fn))
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

// firstAdminRow finds the first row the run would call Cognito for by
// username, sub or email, and its pool.
// Pools for which skip is true are passed over.
func (r *run) firstAdminRow(region string, skip func(pool string) bool) (input.Row, string, bool, error) {
	in, closeIn, err := r.openReader()
	if err != nil {
		return input.Row{}, "", false, err
	}
	defer closeIn()
	include := r.include()
	for range maxAccessScan {
		row, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return input.Row{}, "", false, fmt.Errorf("read input: %w", err)
		}
		if include != nil && !include(row) {
			continue
		}
		// Any action's rows: the pre-flight reads the user of the first
		// row that names one (token rows are read with their token).
		t, refused := target.Resolve(row, target.Rules{Admin: true, Token: true, Pool: r.o.UserPoolID, Region: region})
		if refused != nil || t.By == target.ByToken || (skip != nil && skip(t.Pool)) {
			continue
		}
		pool := t.Pool
		return row, pool, true, nil
	}
	return input.Row{}, "", false, nil
}

// pools is the run's DescribeUserPool cache, primed with the pools the
// pre-flight and the guards described.
func (r *run) pools() *batch.PoolCache {
	if r.ident.pools == nil {
		r.ident.pools = batch.NewPoolCache()
	}
	for id, d := range r.safety.pools {
		if d.exists {
			p := d.pool
			p.ID = id
			r.ident.pools.Put(p)
		}
	}
	return r.ident.pools
}

// attachIdentity gives the job what email rows and --backup need.
func (r *run) attachIdentity(job *batch.Job, users Backend) error {
	r.logAudit()
	if users == nil {
		return nil // nothing left to call
	}
	job.Lookups = users
	job.Lists = rateLimiter{r.listLimiter()}
	job.Pools = r.pools()
	job.Missing = batch.NewMissingPools()
	for id, d := range r.safety.pools {
		if !d.exists {
			job.Missing.Add(id) // the pre-flight or the guards found it missing
		}
	}
	if r.ident.backup != nil {
		job.Backup = r.ident.backup
	}
	if r.scan.Columns.Email {
		job.Resolved = batch.NewResolvedUsers()
		n, err := seedResolved(job.Resolved, r.reportPath, job.Skip)
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
func (r *run) openBackup() error {
	path := r.o.Backup
	if path == "" || r.o.Action != batch.Delete || r.o.DryRun || r.ident.backup != nil {
		return nil
	}
	for _, own := range []string{r.reportPath, r.checkpointPath, r.inputPath} {
		if own != "" && samePath(path, own) {
			return usage(fmt.Errorf("--backup %s is the run's own input, report or checkpoint: give another file", path))
		}
	}
	w, err := backup.Open(path)
	if err != nil {
		return usage(err)
	}
	r.ident.backup = w
	r.log.Info("backing up each user before deleting it", "backup", path)
	return nil
}

// closeBackup closes the --backup file; every saved line was already
// durable.
func (r *run) closeBackup() {
	if r.ident.backup != nil {
		if err := r.ident.backup.Close(); err != nil {
			r.log.Warn("close backup", "err", err)
		}
	}
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// rateLimiter adapts the UserList limiter shared with --select and
// --protect-group to batch.Limiter: one quota, one bucket.
type rateLimiter struct{ l *rate.Limiter }

func (l rateLimiter) Wait(ctx context.Context) error { return l.l.Wait(ctx) }
func (l rateLimiter) Throttled()                     {}
func (l rateLimiter) Succeeded(time.Duration)        {}
func (l rateLimiter) Rate() float64                  { return float64(l.l.Limit()) }

// bindIdentity registers --sts-endpoint-url and delete's --backup.
func (o *Options) bindIdentity(fs *flag.FlagSet) {
	fs.StringVar(&o.STSEndpointURL, "sts-endpoint-url", o.STSEndpointURL, "STS endpoint of the pre-flight's GetCallerIdentity (--endpoint-url is Cognito's only); AWS_ENDPOINT_URL_STS also works")
	if o.Action == batch.Delete {
		fs.StringVar(&o.Backup, "backup", o.Backup, "before each delete, append the user as AdminGetUser and AdminListGroupsForUser return it to this local NDJSON `file` (0600), durably: 2 UserRead calls per row, and the file holds personal data (README)")
	}
}

// validateIdentity checks --backup: local files only, for now.
func (o *Options) validateIdentity() []error {
	if strings.Contains(o.Backup, "://") {
		return []error{fmt.Errorf("--backup %s: %w", o.Backup, backup.ErrRemote)}
	}
	return nil
}
