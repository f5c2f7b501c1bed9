package batch

import (
	"context"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// callFn is one call of a row, retried by retry.Do.
type callFn func(ctx context.Context) (requestID string, err error)

// rowRun is one row going through its calls: the action's steps (its
// spec), in order, each of which may settle the row.
type rowRun struct {
	j                 *Job
	a                 spec
	t                 task
	dispatch, callCtx context.Context
	fail              func(*retry.FatalError)
	kind              retry.Kind
	start             time.Time
	res               result
	// prior is the read an earlier run journaled with its intent, hadPrior
	// whether there was one: the call may already have run.
	prior    string
	hadPrior bool
}

// process runs one row. dispatch ends waiting (limiter, backoff) when the run
// stops; callCtx bounds the calls themselves, so a call already sent can
// finish during the drain.
func (j *Job) process(dispatch, callCtx context.Context, t task, fail func(*retry.FatalError)) result {
	p := &rowRun{j: j, a: j.Action.spec(), t: t, dispatch: dispatch, callCtx: callCtx, fail: fail,
		kind: retry.IAM, start: j.now(), res: result{rec: j.record(t)}}
	if t.Token != "" {
		p.kind = retry.Token
	}
	if p.kind == retry.IAM && j.missing().Has(t.Pool) {
		p.res.rec = poolMissingRecord(p.res.rec, t.Pool)
		return p.res
	}
	p.prior, p.hadPrior = j.Prior[t.row.N]
	if p.a.steps != nil {
		return p.a.steps(p)
	}
	u, read, res, settled := p.readFirst()
	if settled {
		return res
	}
	if j.DryRun {
		// Token rows cannot be read without using the token; report the plan.
		return p.finish(p.a.would, nil)
	}
	if res, settled := p.keep(u, read != checkpoint.ReadNone); settled {
		return res
	}
	if p.hadPrior && p.prior != "" {
		read = p.prior
	}
	return p.mutate(read)
}

// readFirst reads the user where the action decides on its state, and in
// every dry run, and lets the action judge it. An intent from an earlier
// run means the state may already be ours: no read then.
func (p *rowRun) readFirst() (u cognito.User, read string, res result, settled bool) {
	j := p.j
	if p.t.Token != "" || p.hadPrior || !(j.DryRun || (p.a.readFirst != nil && p.a.readFirst(j.Options))) {
		return u, checkpoint.ReadNone, res, false
	}
	r := p.do(j.Reads, func(ctx context.Context) (string, error) {
		var id string
		var err error
		u, id, err = j.Users.GetUser(ctx, p.t.Pool, p.t.Username)
		return id, err
	})
	switch {
	case r.Class == retry.NotFound:
		return u, checkpoint.ReadNone, p.finish(report.NotFound, &r), true
	case r.Err != nil:
		return u, checkpoint.ReadNone, p.failed(r), true
	}
	read = checkpoint.ReadEnabled
	if !u.Enabled {
		read = checkpoint.ReadDisabled
	}
	if p.a.judge != nil {
		if o, msg := p.a.judge(j, u); o != "" {
			p.res.rec.Message = msg
			return u, read, p.finish(o, nil), true
		}
	}
	if j.DryRun {
		return u, read, p.finish(p.a.would, nil), true
	}
	return u, read, res, false
}

// keep backs the user up before the call, for an action that asks for it
// when the run keeps backups; the copy is durable before the call is sent
// (backup.go). have says whether readFirst read the user already.
func (p *rowRun) keep(u cognito.User, have bool) (result, bool) {
	if p.j.Backup == nil || !p.a.backsUp {
		return result{}, false
	}
	r, err := p.j.backUp(p.do, p.t, u, have)
	switch {
	case err != nil:
		p.fail(&retry.FatalError{Code: "BackupWriteFailed", Row: p.t.row.N, Err: err})
		return p.finish(report.NotAttempted, nil), true
	case r.Class == retry.NotFound && p.hadPrior && p.a.goneIsDone:
		p.res.rec.Repeated = true // our earlier call reached it
		return p.finish(p.a.done, nil), true
	case r.Class == retry.NotFound:
		return p.finish(report.NotFound, &r), true
	case r.Err != nil:
		return p.failed(r), true
	}
	return result{}, false
}

// mutate makes the action's call. The intent is journaled once the
// limiter has given the first attempt its token, right before the call: a
// row stopped while it waits for a token leaves no intent, so its resume
// is not a repeat.
func (p *rowRun) mutate(read string) result {
	j, t := p.j, p.t
	r, stopped := p.journaled(j.limiter(p.a.quota), read, p.a.call(j, t))
	if stopped {
		return p.finish(report.NotAttempted, nil)
	}
	// The call may have run already: by an earlier run (an intent), or by
	// an earlier attempt of this one (a timeout or reset after sending).
	mayHaveRun := p.hadPrior || r.MaybeExecuted
	switch {
	case r.Err == nil:
		p.res.rec.Repeated = p.hadPrior
		return p.finish(p.a.done, nil)
	case r.Class == retry.NotFound && mayHaveRun && p.a.goneIsDone:
		// Our own earlier call removed the user: the goal is reached and
		// it was this job that reached it.
		p.res.rec.Repeated = true
		return p.finish(p.a.done, nil)
	case r.Class == retry.NotFound:
		return p.finish(report.NotFound, &r)
	case mayHaveRun && t.Token != "" && p.a.deadTokenIsDone && r.Code == "NotAuthorizedException":
		// The token died with its user: our earlier call did it.
		p.res.rec.Repeated = true
		return p.finish(p.a.done, nil)
	}
	return p.failed(r)
}

// journaled makes the row's mutating call, journaling its intent once the
// limiter has given the first attempt its token (the loop's BeforeFirst
// step): no call without its intent. stopped: the intent could not be
// written, no call was made, and the run is stopping.
func (p *rowRun) journaled(lim Limiter, read string, call callFn) (r retry.Result, stopped bool) {
	j, t := p.j, p.t
	loop := j.loop(p.dispatch, lim, p.kind)
	if !p.hadPrior && j.Intents != nil {
		loop.BeforeFirst = func() error { return j.Intents.Intent(t.row.N, read) }
	}
	r = p.doLoop(lim, loop, call)
	if r.Unsent != nil {
		p.fail(&retry.FatalError{Code: "CheckpointWriteFailed", Row: t.row.N, Err: r.Unsent})
		return r, true
	}
	return r, false
}

// do makes one retried call of the row and adds its attempts to the row's,
// and to its writes or reads when lim is the job's write or read limiter.
func (p *rowRun) do(lim Limiter, fn callFn) retry.Result {
	return p.doLoop(lim, p.j.loop(p.dispatch, lim, p.kind), fn)
}

// doLoop is do under a loop the caller completed from lim.
func (p *rowRun) doLoop(lim Limiter, loop retry.Loop, fn callFn) retry.Result {
	r, reqID := p.res.tally(p.callCtx, loop, fn)
	if reqID != "" {
		p.res.rec.RequestID = reqID
	}
	switch {
	case same(lim, p.j.Writes):
		p.res.writes += r.Attempts
	case same(lim, p.j.Reads):
		p.res.reads += r.Attempts
	}
	return r
}

// same reports whether a and b are the same limiter (false for nil). The
// type check keeps == from panicking on a limiter type that is not
// comparable.
func same(a, b Limiter) bool {
	return a != nil && reflect.TypeOf(a).Comparable() && a == b
}

// tally makes one retried call under loop and adds its attempts, throttles
// and retries to res. It returns the request id of the last answer, else
// the one the final error carries ("" when neither has one).
func (res *result) tally(ctx context.Context, loop retry.Loop, fn callFn) (retry.Result, string) {
	var reqID string
	r := retry.Do(ctx, loop, func(ctx context.Context) error {
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
	if reqID == "" {
		reqID = retry.RequestID(r.Err)
	}
	return r, reqID
}

// finish settles the row with outcome o; r, when it failed, gives the
// error code and message.
func (p *rowRun) finish(o report.Outcome, r *retry.Result) result {
	res := &p.res
	res.rec.Outcome = o
	res.rec.Attempts = res.calls
	res.rec.DurationMS = p.j.now().Sub(p.start).Milliseconds()
	res.rec.At = p.j.now()
	if r != nil && r.Err != nil && o != report.NotFound {
		res.rec.ErrorCode, res.rec.Message = r.Code, r.Err.Error()
	}
	scrubRecord(&res.rec, p.t.scrubber())
	return *res
}

// failed turns a call that did not succeed into the row's outcome, or
// stops the run when the fault is run-wide. A missing pool fails its rows
// only (pools.go).
func (p *rowRun) failed(r retry.Result) result {
	switch r.Class {
	case retry.Fatal:
		p.fail(fatal(r.Code, p.t.row.N, r.Err, p.t.scrubber()))
		return p.finish(report.NotAttempted, &r)
	case retry.PoolMissing:
		p.j.poolFailed(r, p.t.Pool)
		return p.finish(report.Failed, &r)
	case retry.Permanent:
		p.res.forbidden = r.Code == "ForbiddenException"
		return p.finish(report.Failed, &r)
	}
	if p.dispatch.Err() != nil && r.Attempts == 0 {
		// Stopped before the first attempt: not reached at all.
		return p.finish(report.NotAttempted, &r)
	}
	p.res.transient = r.Attempts > 0
	p.res.rec.Transient = true
	return p.finish(report.Failed, &r)
}

// limiter is the limiter of quota q.
func (j *Job) limiter(q Quota) Limiter {
	switch q {
	case UserUpdate:
		return j.Writes
	case UserCreation:
		return j.Creates
	}
	return nil
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
