package batch

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// prepare validates a row. It returns either a task for a worker or, for a
// row decided without any call, its record.
func (j *Job) prepare(row input.Row) (task, *report.Record) {
	t := task{row: row}
	rec := func(o report.Outcome, msg string) (task, *report.Record) {
		r := j.record(t)
		r.Outcome, r.Message = o, msg
		return t, &r
	}
	if row.Err != "" {
		return rec(report.Invalid, row.Err)
	}
	switch {
	case row.Username != "" || (row.AccessToken == "" && (row.Sub != "" || row.Email != "")):
		if !j.Action.AdminCapable() {
			return rec(report.Invalid, "row names a user but "+string(j.Action)+" needs an access_token")
		}
		t.username = row.Username
		if t.username == "" && row.Sub != "" {
			// Admin calls accept a local user's sub as the username.
			t.username = row.Sub
			if err := input.ValidSub(row.Sub); err != nil {
				return rec(report.Invalid, err.Error())
			}
		}
		if t.username == "" {
			// An email: a worker resolves it to a username (resolve.go).
			if err := input.ValidEmail(row.Email); err != nil {
				return rec(report.Invalid, err.Error())
			}
			t.email = row.Email
		} else if err := input.ValidUsername(t.username); err != nil {
			return rec(report.Invalid, err.Error())
		}
		t.pool = j.Pool
		if row.UserPoolID != "" {
			t.pool = row.UserPoolID
		}
		switch {
		case t.pool == "":
			return rec(report.Invalid, "no user pool: give --user-pool-id or a user_pool_id column")
		case input.ValidPoolID(t.pool) != nil:
			return rec(report.Invalid, input.ValidPoolID(t.pool).Error())
		case j.Region != "" && input.PoolRegion(t.pool) != j.Region:
			return rec(report.Invalid, fmt.Sprintf("user pool %s is not in the run's region %s", t.pool, j.Region))
		case j.ConfirmedPools != nil && j.Action.Destructive() && !j.ConfirmedPools[t.pool]:
			return rec(report.Invalid, fmt.Sprintf("user pool %s is not confirmed: add --confirm-pool-id %s", t.pool, t.pool))
		}
		if t.email == "" && j.Protected != nil && j.Protected(t.pool, t.username) {
			return rec(report.Protected, "user is protected")
		}
		if j.Dups != nil {
			if first, dup := j.Dups.See(DupKey(row, j.Pool), row.N); dup {
				return rec(report.Duplicate, fmt.Sprintf("same user as row %d", first))
			}
		}
	case row.AccessToken != "":
		if !j.Action.TokenCapable() {
			return rec(report.Invalid, "row has only an access_token; "+string(j.Action)+" needs a username")
		}
		t.token = row.AccessToken
		if j.Dups != nil {
			if first, dup := j.Dups.See(DupKey(row, j.Pool), row.N); dup {
				return rec(report.Duplicate, fmt.Sprintf("same access token as row %d", first))
			}
		}
	default:
		return rec(report.Invalid, "row has no username")
	}
	return t, nil
}

func (j *Job) record(t task) report.Record {
	r := report.Record{
		Row:        t.row.N,
		Action:     string(j.Action),
		Username:   t.username,
		UserPoolID: t.pool,
		At:         j.now(),
	}
	if r.Username == "" {
		r.Username = t.row.Username
	}
	if t.row.Username == "" && t.row.Sub != "" {
		r.Input, r.ResolvedBy = t.row.Sub, ResolvedSub
	}
	if t.row.Username == "" && t.row.Sub == "" && t.row.AccessToken == "" && t.row.Email != "" {
		r.Input, r.ResolvedBy = t.row.Email, t.resolvedBy
	}
	if t.row.AccessToken != "" && t.row.Username == "" {
		r.TokenSHA256 = input.TokenFingerprint(t.row.AccessToken)
		if u := input.TokenUsername(t.row.AccessToken); u != "" && r.Username == "" {
			// Decoded without verifying the token: a name for people, not
			// proof (see ResolvedToken).
			r.Username, r.ResolvedBy = u, ResolvedToken
		}
	}
	return r
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// call is one retried call of a row; it accumulates attempts into res.
type callFn func(ctx context.Context) (requestID string, err error)

// process runs one row. dispatch ends waiting (limiter, backoff) when the run
// stops; callCtx bounds the calls themselves, so a call already sent can
// finish during the drain.
func (j *Job) process(dispatch, callCtx context.Context, t task, fail func(*FatalError)) result {
	start := j.now()
	res := result{rec: j.record(t)}
	kind := retry.IAM
	if t.token != "" {
		kind = retry.Token
	}
	if kind == retry.IAM && j.missing().Has(t.pool) {
		res.rec = poolMissingRecord(res.rec, t.pool)
		return res
	}
	prior, hadPrior := j.Prior[t.row.N]
	// mayHaveRun is set once a mutating call for this row may have been
	// executed by the service: by an earlier run (an intent), or by an
	// earlier attempt of this one (a timeout or reset after sending).
	mayHaveRun := hadPrior

	do := func(lim Limiter, fn callFn) retry.Result {
		var reqID string
		r := retry.Do(callCtx, j.loop(dispatch, lim, kind), func(ctx context.Context) error {
			id, err := fn(ctx)
			if id != "" {
				reqID = id
			}
			return err
		})
		res.calls += r.Attempts
		res.throttles += r.Throttles
		if r.Attempts > 1 {
			res.retries += r.Attempts - 1
		}
		if reqID != "" {
			res.rec.RequestID = reqID
		} else if id := retry.RequestID(r.Err); id != "" {
			res.rec.RequestID = id
		}
		return r
	}
	finish := func(o report.Outcome, r *retry.Result) result {
		res.rec.Outcome = o
		res.rec.Attempts = res.calls
		res.rec.DurationMS = j.now().Sub(start).Milliseconds()
		res.rec.At = j.now()
		if r != nil && r.Err != nil && o != report.NotFound {
			res.rec.ErrorCode, res.rec.Message = r.Code, r.Err.Error()
		}
		scrubRecord(&res.rec, t.scrubber())
		return res
	}
	// failed turns a call that did not succeed into the row's outcome, or
	// stops the run when the fault is run-wide. A missing pool fails its
	// rows only (pools.go).
	failed := func(r retry.Result) result {
		switch r.Class {
		case retry.Fatal:
			fail(fatal(r.Code, t.row.N, r.Err, t.scrubber()))
			return finish(report.NotAttempted, &r)
		case retry.PoolMissing:
			j.poolFailed(r, t.pool)
			return finish(report.Failed, &r)
		case retry.Permanent:
			res.forbidden = r.Code == "ForbiddenException"
			return finish(report.Failed, &r)
		}
		if dispatch.Err() != nil && r.Attempts == 0 {
			// Stopped before the first attempt: not reached at all.
			return finish(report.NotAttempted, &r)
		}
		res.transient = r.Attempts > 0
		res.rec.Transient = true
		return finish(report.Failed, &r)
	}

	pool, user := t.pool, t.username
	read := ReadNone

	// Reads first where the action decides on the user's state: disable
	// (already disabled users cost no UserUpdate call, and rollback stays
	// exact), delete --only-disabled-for, and every dry run. An intent from
	// an earlier run means the state may already be ours: do not read again.
	needRead := t.token == "" && !hadPrior &&
		(j.DryRun || j.Action == Disable || (j.Action == Delete && j.OnlyDisabledFor > 0))
	var u cognito.User // as read, for a --backup
	if needRead {
		r := do(j.Reads, func(ctx context.Context) (string, error) {
			var id string
			var err error
			u, id, err = j.Users.GetUser(ctx, pool, user)
			return id, err
		})
		switch {
		case r.Class == retry.NotFound:
			return finish(report.NotFound, &r)
		case r.Err != nil:
			return failed(r)
		}
		read = ReadEnabled
		if !u.Enabled {
			read = ReadDisabled
		}
		switch j.Action {
		case Disable:
			if !u.Enabled {
				return finish(report.AlreadyDisabled, nil)
			}
		case Delete:
			if j.OnlyDisabledFor > 0 {
				if u.Enabled {
					return finish(report.SkippedNotDisabled, nil)
				}
				if age := j.now().Sub(u.Modified); age < j.OnlyDisabledFor {
					res.rec.Message = fmt.Sprintf("disabled or modified %s ago, less than %s", age.Round(time.Second), j.OnlyDisabledFor)
					return finish(report.SkippedTooRecent, nil)
				}
			}
		}
		if j.DryRun {
			return finish(j.Action.would(), nil)
		}
	}
	if j.DryRun {
		// Token rows cannot be read without using the token; report the plan.
		return finish(j.Action.would(), nil)
	}

	if j.Backup != nil && j.Action == Delete {
		// The copy is durable before the delete is sent (backup.go).
		r, err := j.backUp(do, t, u, needRead)
		switch {
		case err != nil:
			fail(&FatalError{Code: "BackupWriteFailed", Row: t.row.N, Err: err})
			return finish(report.NotAttempted, nil)
		case r.Class == retry.NotFound && hadPrior:
			res.rec.Repeated = true // our earlier delete reached it
			return finish(report.Deleted, nil)
		case r.Class == retry.NotFound:
			return finish(report.NotFound, &r)
		case r.Err != nil:
			return failed(r)
		}
	}
	if hadPrior && prior != "" {
		read = prior
	}
	// The intent is journaled once the limiter has given the first
	// attempt its token, right before the call: a row stopped while it
	// waits for a token leaves no intent, so its resume is not a repeat.
	call := j.mutation(t)
	journaled := hadPrior || j.Intents == nil
	var intentErr error
	mutate := func(ctx context.Context) (string, error) {
		if !journaled {
			if err := j.Intents.Intent(t.row.N, read); err != nil {
				intentErr = err
				return "", retry.Wrap(retry.Decision{Class: retry.Fatal, Code: "CheckpointWriteFailed"}, err)
			}
			journaled = true
		}
		return call(ctx)
	}
	r := do(j.Writes, mutate)
	if intentErr != nil {
		fail(&FatalError{Code: "CheckpointWriteFailed", Row: t.row.N, Err: intentErr})
		return finish(report.NotAttempted, nil)
	}
	if r.MaybeExecuted || (r.Err == nil && hadPrior) {
		mayHaveRun = true
	}
	switch {
	case r.Err == nil:
		res.rec.Repeated = hadPrior
		return finish(j.Action.done(t.token != ""), nil)
	case r.Class == retry.NotFound:
		if mayHaveRun && (j.Action == Delete) {
			// Our own earlier call deleted the user: the goal is reached
			// and it was this job that reached it.
			res.rec.Repeated = true
			return finish(report.Deleted, nil)
		}
		return finish(report.NotFound, &r)
	case mayHaveRun && t.token != "" && j.Action == SelfDelete && r.Code == "NotAuthorizedException":
		// The token died with its user: our earlier call did it.
		res.rec.Repeated = true
		return finish(report.SelfDeleted, nil)
	}
	return failed(r)
}

func (j *Job) mutation(t task) callFn {
	pool, user, tok := t.pool, t.username, t.token
	switch j.Action {
	case Disable:
		return func(ctx context.Context) (string, error) { return j.Users.DisableUser(ctx, pool, user) }
	case Delete:
		return func(ctx context.Context) (string, error) { return j.Users.DeleteUser(ctx, pool, user) }
	case Enable, Rollback:
		return func(ctx context.Context) (string, error) { return j.Users.EnableUser(ctx, pool, user) }
	case SignOut:
		return func(ctx context.Context) (string, error) { return j.Users.GlobalSignOut(ctx, pool, user) }
	case DeleteAttributes:
		if tok != "" {
			return func(ctx context.Context) (string, error) { return j.Users.SelfDeleteAttributes(ctx, tok, j.Attributes) }
		}
		return func(ctx context.Context) (string, error) {
			return j.Users.DeleteAttributes(ctx, pool, user, j.Attributes)
		}
	case SelfDelete:
		return func(ctx context.Context) (string, error) { return j.Users.SelfDelete(ctx, tok) }
	}
	return func(context.Context) (string, error) { return "", fmt.Errorf("unknown action %q", j.Action) }
}

// loop is the retry loop of one call: waiting (for a token, in the
// backoff) ends when dispatch does; lim nil means no limiter.
func (j *Job) loop(dispatch context.Context, lim Limiter, kind retry.Kind) retry.Loop {
	return retry.Loop{
		Policy:  j.Retry,
		Kind:    kind,
		Timeout: j.CallTimeout,
		Wait: func(context.Context) error {
			if lim == nil {
				return dispatch.Err()
			}
			return lim.Wait(dispatch)
		},
		Sleep: func(_ context.Context, d time.Duration) error { return retry.Sleep(dispatch, d) },
		OnThrottle: func() {
			if lim != nil {
				lim.Throttled()
			}
		},
		OnSuccess: func(lat time.Duration) {
			if lim != nil {
				lim.Succeeded(lat)
			}
		},
		OnFailure: func() {
			if f, ok := lim.(interface{ Failed() }); ok {
				f.Failed() // a timeline's meter (internal/timeline)
			}
		},
		Rand: rand.Float64,
	}
}
