package batch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/redact"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// How an email row's user was identified: the report's resolved_by (the
// ones decided without a call are target's).
const (
	// ResolvedEmailAsUsername: the pool lets users sign in with their email
	// (username or alias attribute), so the email is the Username, without
	// a call.
	ResolvedEmailAsUsername = "email_as_username"
	// ResolvedListUsers: ListUsers with an exact email filter found exactly
	// one user.
	ResolvedListUsers = "list_users"
)

// Lookups are the reads beyond Users that email rows and backups make.
type Lookups interface {
	DescribePool(ctx context.Context, pool string) (cognito.Pool, error)
	// FindByEmail lists the usernames of the users whose email is exactly
	// email, one ListUsers page per call: token is the previous page's
	// next, "" for the first; next is "" after the last page.
	FindByEmail(ctx context.Context, pool, email, token string) (usernames []string, next, requestID string, err error)
	// UserGroups lists the names of the user's groups.
	UserGroups(ctx context.Context, pool, username string) (groups []string, requestID string, err error)
}

var _ Lookups = (*cognito.Client)(nil)

// PoolCache keeps each pool's DescribeUserPool answer for a run: one call
// per pool, shared by every worker. It is safe for concurrent use.
type PoolCache struct {
	mu    sync.Mutex
	pools map[string]*poolEntry
}

type poolEntry struct {
	mu   sync.Mutex // held during the call, so callers of one pool wait for it
	pool cognito.Pool
	ok   bool
}

// NewPoolCache returns an empty cache.
func NewPoolCache() *PoolCache { return &PoolCache{pools: map[string]*poolEntry{}} }

func (c *PoolCache) entry(id string) *poolEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.pools[id]
	if e == nil {
		e = &poolEntry{}
		c.pools[id] = e
	}
	return e
}

// Put records a pool described elsewhere (the pre-flight).
func (c *PoolCache) Put(p cognito.Pool) {
	e := c.entry(p.ID)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pool, e.ok = p, true
}

// Get returns pool id's description, calling describe unless an earlier
// call succeeded. A failed call is not remembered: the next row tries again.
func (c *PoolCache) Get(id string, describe func() (cognito.Pool, error)) (cognito.Pool, error) {
	e := c.entry(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ok {
		return e.pool, nil
	}
	p, err := describe()
	if err != nil {
		return cognito.Pool{}, err
	}
	if p.ID == "" {
		p.ID = id
	}
	e.pool, e.ok = p, true
	return p, nil
}

// ResolvedUsers detects duplicates among rows whose username a ListUsers
// call found. Exact repeats of an input value are caught before any call
// (Job.Dups, on the email as given); this catches two different inputs
// that name one user, which only the call can tell. Workers resolve rows
// concurrently, so the first row to claim a user, in time, keeps it and
// later ones are duplicates of it. A resumed run seeds it with the users
// that settled rows of earlier runs claimed (from their report lines), so a
// resume gives the verdicts an uninterrupted run would have.
//
// Memory is one entry per row resolved by ListUsers. Those rows are paced
// by the UserList quota (30/s by default: about 2.6 million a day), so the
// set stays far below what the rest of a run holds. It is safe for
// concurrent use.
type ResolvedUsers struct {
	mu    sync.Mutex
	first map[string]int
}

// NewResolvedUsers returns an empty set.
func NewResolvedUsers() *ResolvedUsers { return &ResolvedUsers{first: map[string]int{}} }

// Claim records that row's user is username in pool. When another row
// claimed that user before, it returns that row and dup true; claiming again
// from the same row (a resumed row) is not a duplicate.
func (s *ResolvedUsers) Claim(pool, username string, row int) (first int, dup bool) {
	key := pool + "\x00" + username
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.first[key]; ok && f != row {
		return f, true
	}
	s.first[key] = row
	return row, false
}

// Len is the number of users claimed.
func (s *ResolvedUsers) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

// handle runs one row. An email row is first resolved to a username; that is
// a call, so it happens here in a worker rather than in prepare, and the
// duplicate check on the resolved username comes after it. process then
// makes the row's own calls.
func (j *Job) handle(dispatch, callCtx context.Context, t task, fail func(*retry.FatalError)) result {
	if t.Email == "" {
		return j.process(dispatch, callCtx, t, fail)
	}
	rs := &resolution{j: j, dispatch: dispatch, callCtx: callCtx, fail: fail, start: j.now()}
	return rs.run(t)
}

// resolution is one email row: its resolution calls and the row's calls.
type resolution struct {
	j                 *Job
	dispatch, callCtx context.Context
	fail              func(*retry.FatalError)
	start             time.Time
	acc               result // calls made so far, for the row's totals
}

func (rs *resolution) run(t task) result {
	j := rs.j
	if j.Lookups == nil {
		return rs.finish(t, report.Invalid, "email rows need resolution to a username, which this run cannot do", nil)
	}
	if j.missing().Has(t.Pool) {
		res := rs.finish(t, report.Failed, "", nil)
		res.rec = poolMissingRecord(res.rec, t.Pool)
		return res
	}
	_, hadPrior := j.Prior[t.row.N]
	pool, r := rs.describe(t.Pool)
	if r.Err != nil {
		return rs.failed(t, r)
	}
	// The email is the Username where the pool lets users sign in with it:
	// no call. An email alias that is not verified is not accepted as a
	// Username, though, and would look like a user that does not exist; so
	// not_found is confirmed with ListUsers before it is believed. A row
	// resumed after a kill with a call in flight is resolved with ListUsers
	// directly: its earlier attempt may have been either way, and only the
	// user's real username tells "our delete reached it" from "not there".
	if pool.EmailSignIn() && !hadPrior {
		if res, settled := rs.asUsername(&t); settled {
			return res
		}
	}
	names, more, r := rs.list(t)
	if r.Err != nil {
		return rs.failed(t, r)
	}
	return rs.settle(t, names, more, hadPrior)
}

// describe is the row's pool, from the run's cache or DescribeUserPool.
func (rs *resolution) describe(id string) (cognito.Pool, retry.Result) {
	pools := rs.j.Pools
	if pools == nil {
		pools = NewPoolCache() // no cache: describe the pool for this row
	}
	var r retry.Result
	pool, _ := pools.Get(id, func() (cognito.Pool, error) {
		var p cognito.Pool
		r = rs.call(nil, func(ctx context.Context) (string, error) {
			var err error
			p, err = rs.j.Lookups.DescribePool(ctx, id)
			return "", err
		})
		return p, r.Err
	})
	return pool, r
}

// asUsername runs the row with its email as the username, which t keeps
// (a failed ListUsers after it reports so). A not_found does not settle
// the row: its calls are kept for the ListUsers try.
func (rs *resolution) asUsername(t *task) (result, bool) {
	j := rs.j
	t.Username, t.ResolvedBy = t.Email, ResolvedEmailAsUsername
	if j.Protected != nil && j.Protected(t.Pool, t.Username) {
		return rs.finish(*t, report.Protected, "user is protected", nil), true
	}
	res := rs.merge(j.process(rs.dispatch, rs.callCtx, *t, rs.fail))
	if res.rec.Outcome != report.NotFound {
		return res, true
	}
	rs.acc = res
	return res, false
}

// list finds the usernames with the row's email. One page of 60 nearly
// always answers. A filtered page may come back short with a token, so
// pages are followed until two users are known (ambiguous: no need to count
// further) or the last page; more says pages were left.
func (rs *resolution) list(t task) (names []string, more bool, r retry.Result) {
	token := ""
	for {
		var page []string
		r = rs.call(rs.j.Lists, func(ctx context.Context) (string, error) {
			var id, next string
			var err error
			page, next, id, err = rs.j.Lookups.FindByEmail(ctx, t.Pool, t.Email, token)
			if err == nil {
				token = next
			}
			return id, err
		})
		if r.Err != nil {
			return names, false, r
		}
		names = append(names, page...)
		if token == "" || len(names) >= 2 {
			return names, token != "", r
		}
	}
}

// settle decides the row on the users ListUsers found, and runs it when
// there is exactly one.
func (rs *resolution) settle(t task, names []string, more, hadPrior bool) result {
	j := rs.j
	t.Username, t.ResolvedBy = "", ResolvedListUsers
	switch {
	case len(names) == 0 && hadPrior && j.Action.spec().goneIsDone:
		// An earlier run resolved this row and journaled its call before
		// it was killed; the user is gone now: that call removed it.
		res := rs.finish(t, j.Action.spec().done, "no user has this email any more: the "+string(j.Action)+" of an earlier, interrupted run removed it", nil)
		res.rec.Repeated = true
		return res
	case len(names) == 0:
		return rs.finish(t, report.NotFound, "no user has this email", nil)
	case len(names) > 1:
		n := fmt.Sprintf("%d", len(names))
		if more {
			n = "at least " + n
		}
		return rs.finish(t, report.Invalid, fmt.Sprintf("email matches %s users (for example a federated and a native user): give the username instead; no user was guessed", n), nil)
	}
	t.Username = names[0]
	if j.Resolved != nil {
		if first, dup := j.Resolved.Claim(t.Pool, t.Username, t.row.N); dup {
			return rs.finish(t, report.Duplicate, fmt.Sprintf("same user as row %d", first), nil)
		}
	}
	if j.Protected != nil && j.Protected(t.Pool, t.Username) {
		return rs.finish(t, report.Protected, "user is protected", nil)
	}
	return rs.merge(j.process(rs.dispatch, rs.callCtx, t, rs.fail))
}

// call is one retried call made for the resolution; lim nil means no
// limiter (DescribeUserPool, once per pool).
func (rs *resolution) call(lim Limiter, fn callFn) retry.Result {
	r, reqID := rs.acc.tally(rs.callCtx, rs.j.loop(rs.dispatch, lim, retry.IAM), fn)
	if reqID != "" {
		// merge may copy it into a record process already scrubbed.
		rs.acc.rec.RequestID = redact.RequestID(reqID)
	}
	return r
}

// merge adds the resolution's calls to the outcome process gave.
func (rs *resolution) merge(res result) result {
	res.calls += rs.acc.calls
	res.throttles += rs.acc.throttles
	res.retries += rs.acc.retries
	res.rec.Attempts = res.calls
	res.rec.DurationMS = rs.j.now().Sub(rs.start).Milliseconds()
	if res.rec.RequestID == "" {
		res.rec.RequestID = rs.acc.rec.RequestID
	}
	return res
}

// finish settles the row without (further) calls of process.
func (rs *resolution) finish(t task, o report.Outcome, msg string, r *retry.Result) result {
	res := result{rec: rs.j.record(t)}
	res.rec.Outcome, res.rec.Message = o, msg
	if r != nil && r.Err != nil {
		res.rec.ErrorCode, res.rec.Message = r.Code, r.Err.Error()
	}
	res = rs.merge(res)
	scrubRecord(&res.rec, t.scrubber())
	res.rec.At = rs.j.now()
	return res
}

// failed is process's rule for a call that did not succeed: stop the run on
// a run-wide fault, else fail the row (transient or not).
func (rs *resolution) failed(t task, r retry.Result) result {
	switch {
	case r.Class == retry.Fatal:
		rs.fail(fatal(r.Code, t.row.N, r.Err, t.scrubber()))
		return rs.finish(t, report.NotAttempted, "", &r)
	case r.Class == retry.PoolMissing:
		rs.j.poolFailed(r, t.Pool)
		return rs.finish(t, report.Failed, "", &r)
	case r.Class == retry.Permanent || r.Class == retry.NotFound:
		res := rs.finish(t, report.Failed, "", &r)
		res.forbidden = r.Code == "ForbiddenException"
		return res
	case rs.dispatch.Err() != nil && r.Attempts == 0:
		return rs.finish(t, report.NotAttempted, "", &r)
	}
	res := rs.finish(t, report.Failed, "", &r)
	res.transient, res.rec.Transient = r.Attempts > 0, true
	return res
}
