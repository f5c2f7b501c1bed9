package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// Restorer is what restore needs besides Users: the backup its rows come
// from and the calls that create a user and put it in its groups.
type Restorer struct {
	Backup interface {
		Lookup(row input.Row) (backup.Entry, bool, error)
	}
	Users interface {
		CreateUser(ctx context.Context, pool string, nu cognito.NewUser) (cognito.User, string, error)
		AddUserToGroup(ctx context.Context, pool, username, group string) (string, error)
	}
	// Invite sends Cognito's invitation to each user created; without it
	// the creates are silent.
	Invite bool
}

// restoreSpec: each row's user comes back from the backup with
// AdminCreateUser (UserCreation quota), then its state and its groups
// (UserUpdate). A user of that name in the pool is never touched, unless
// this job's own earlier create may have made it.
func restoreSpec() spec {
	return spec{admin: true, quota: UserCreation, done: report.Restored, would: would(Restore), steps: (*rowRun).restore}
}

// fromBackup finds the backup's copy of the user a row names and makes the
// row name it by username, in the run's pool. A row the backup does not
// hold is settled here: not_in_backup.
func (j *Job) fromBackup(row input.Row) (task, *report.Record) {
	e, ok, err := j.Restore.Backup.Lookup(row)
	t := task{row: row, Target: target.Target{Username: row.Username, Pool: j.Pool}}
	switch {
	case err != nil:
		rec := j.record(t)
		rec.Outcome, rec.Message = report.Failed, err.Error()
		return t, &rec
	case !ok:
		rec := j.record(t)
		rec.Outcome, rec.Message = report.NotInBackup, "the backup holds no user with this "+identifiedBy(row)
		return t, &rec
	}
	if row.Username == "" {
		t.via = row.ID()
	}
	t.entry = &e
	t.row = input.Row{N: row.N, Line: row.Line, Username: e.Username}
	return t, nil
}

func identifiedBy(row input.Row) string {
	switch {
	case row.Username != "":
		return "username"
	case row.Sub != "":
		return "sub"
	}
	return "email"
}

// writable is what AdminCreateUser may set of a backed-up user's
// attributes: not sub (Cognito gives a new one), identities (links to
// federated users, made by the sign-in, not by an admin), nor the
// service's own cognito:* ones.
func writable(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if k == "sub" || k == "identities" || strings.HasPrefix(k, "cognito:") {
			continue
		}
		out[k] = v
	}
	return out
}

// restore brings one row's user back: create, then disable if it was
// disabled (right away: it never serves a sign-in in between, and has no
// password anyone knows), then its groups.
func (p *rowRun) restore() result {
	e := p.t.entry
	if e == nil { // a row the pipeline did not look up: never guess
		p.res.rec.Message = "not looked up in the backup"
		return p.finish(report.Failed, nil)
	}
	p.res.rec.OldSub = e.Attributes["sub"]
	attrs := writable(e.Attributes)
	if r := p.nameForCreate(attrs); r.Err != nil {
		return p.failed(r)
	}
	if p.j.DryRun {
		return p.restorePlan()
	}
	u, res, settled := p.create(attrs)
	if settled {
		return res
	}
	p.renamed(u.Username)
	p.res.rec.NewSub = u.Sub
	return p.stateAndGroups(e)
}

// stateAndGroups gives a created user the backup's enabled state and its
// groups, and settles the row restored.
func (p *rowRun) stateAndGroups(e *backup.Entry) result {
	var notes []string
	if !e.Enabled || e.NoEnabled {
		if r := p.do(p.j.Writes, func(ctx context.Context) (string, error) {
			return p.j.Users.DisableUser(ctx, p.t.Pool, p.t.Username)
		}); r.Err != nil {
			return p.failedAfterCreate(r, "not disabled again")
		}
		if e.NoEnabled {
			notes = append(notes, "the backup (an older cogsweep's) does not say whether it was enabled: restored disabled")
		}
	}
	for _, g := range e.Groups {
		r := p.do(p.j.Writes, func(ctx context.Context) (string, error) {
			return p.j.Restore.Users.AddUserToGroup(ctx, p.t.Pool, p.t.Username, g)
		})
		switch {
		case r.Err == nil:
		case r.Code == "ResourceNotFoundException":
			// The pool answered the create: it is the group that is gone.
			p.res.rec.MissingGroups = append(p.res.rec.MissingGroups, g)
		default:
			return p.failedAfterCreate(r, "not added to group "+g)
		}
	}
	if m := p.res.rec.MissingGroups; len(m) > 0 {
		notes = append(notes, "groups no longer in the pool: "+strings.Join(m, ", "))
	}
	if e.NoGroups {
		notes = append(notes, "the backup (an older cogsweep's) does not list its groups: none added")
	}
	p.res.rec.Message = strings.Join(notes, "; ")
	return p.finish(report.Restored, nil)
}

// nameForCreate names the user as AdminCreateUser wants it: in a pool
// whose users sign in with their email or phone number, the username is
// Cognito's own (a UUID) and the create takes that attribute instead.
func (p *rowRun) nameForCreate(attrs map[string]string) retry.Result {
	j := p.j
	if j.Lookups == nil {
		return retry.Result{}
	}
	pools := j.Pools
	if pools == nil {
		pools = NewPoolCache()
	}
	var r retry.Result
	pool, _ := pools.Get(p.t.Pool, func() (cognito.Pool, error) {
		var pl cognito.Pool
		r = p.do(nil, func(ctx context.Context) (string, error) {
			var err error
			pl, err = j.Lookups.DescribePool(ctx, p.t.Pool)
			return "", err
		})
		return pl, r.Err
	})
	if r.Err != nil {
		return r
	}
	for _, a := range pool.UsernameAttributes {
		if v := attrs[a]; v != "" {
			p.t.Username = v
			return r
		}
	}
	return r
}

// renamed makes the calls after the create, and the report, use the name
// Cognito gave the user, when it is not the one asked for (a pool that
// signs in by email); the backup's name stays as the row's input.
func (p *rowRun) renamed(name string) {
	if name == "" || name == p.t.Username {
		return
	}
	if p.res.rec.Input == "" {
		p.res.rec.Input, p.res.rec.ResolvedBy = p.res.rec.Username, "backup"
	}
	p.t.Username, p.res.rec.Username = name, name
}

// create makes the user. A name already taken is already_exists, unless
// this job's own create may have run (an intent from a killed run, a
// timeout after sending): then a user whose attributes are the backup's is
// ours, restored, repeated.
func (p *rowRun) create(attrs map[string]string) (u cognito.User, res result, settled bool) {
	j, t := p.j, p.t
	nu := cognito.NewUser{Username: t.Username, Attributes: attrs, Invite: j.Restore.Invite}
	r, stopped := p.journaled(j.Creates, checkpoint.ReadNone, func(ctx context.Context) (string, error) {
		var id string
		var err error
		u, id, err = j.Restore.Users.CreateUser(ctx, t.Pool, nu)
		return id, err
	})
	if stopped {
		return u, p.finish(report.NotAttempted, nil), true
	}
	switch {
	case r.Err == nil:
		p.res.rec.Repeated = p.hadPrior
		return u, res, false
	case r.Code != "UsernameExistsException":
		return u, p.failed(r), true
	case !p.hadPrior && !r.MaybeExecuted:
		p.res.rec.Message = "a user of this name is in the pool: restore never overwrites one"
		return u, p.finish(report.AlreadyExists, nil), true
	}
	cur, gr := p.read()
	if gr.Err != nil {
		return u, p.failed(gr), true
	}
	if !sameAttributes(cur.Attributes, attrs) {
		p.res.rec.Message = "a user of this name is in the pool with other attributes than the backup's: restore never overwrites one"
		return u, p.finish(report.AlreadyExists, nil), true
	}
	p.res.rec.Repeated = true // our earlier create made it
	p.renamed(cur.Username)
	return cur, res, false
}

// read is AdminGetUser of the row's user.
func (p *rowRun) read() (u cognito.User, r retry.Result) {
	r = p.do(p.j.Reads, func(ctx context.Context) (string, error) {
		var id string
		var err error
		u, id, err = p.j.Users.GetUser(ctx, p.t.Pool, p.t.Username)
		return id, err
	})
	return u, r
}

// sameAttributes: every attribute restore sets has the backup's value.
func sameAttributes(cur, want map[string]string) bool {
	for k, v := range want {
		if got, ok := cur[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// restorePlan is a dry run's row: the name free means would_restore.
func (p *rowRun) restorePlan() result {
	_, r := p.read()
	switch {
	case r.Class == retry.NotFound:
		return p.finish(p.a.would, nil)
	case r.Err != nil:
		return p.failed(r)
	}
	p.res.rec.Message = "a user of this name is in the pool: restore never overwrites one"
	return p.finish(report.AlreadyExists, nil)
}

// failedAfterCreate: the user is back but a later step failed. A resume
// tries the row again, finds its own user (the intent) and finishes it.
func (p *rowRun) failedAfterCreate(r retry.Result, what string) result {
	res := p.failed(r)
	res.rec.Message = fmt.Sprintf("created, but %s: %s", what, res.rec.Message)
	return res
}
