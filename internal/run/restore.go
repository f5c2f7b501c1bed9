package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pace"
)

// Restore's rows are the users of a delete's --backup, numbered in the
// backup's order, or the rows of --input, each looked up in the backup.
// The backup is scanned once before any call (every line checked, an
// index built: backup/read.go), so a corrupt file or a backup of another
// pool stops the run with exit 2.

// restoreCalls are the calls restore makes besides cognito.Users.
type restoreCalls interface {
	CreateUser(ctx context.Context, pool string, nu cognito.NewUser) (cognito.User, string, error)
	AddUserToGroup(ctx context.Context, pool, username, group string) (string, error)
}

var _ restoreCalls = (*cognito.Client)(nil)

// prepareRestore opens --from-backup, after --input's own scan when there
// is one, and settles the pool the users go back to. The backup must be a
// local file (store says which paths are).
func (p *plan) prepareRestore(store Storage) error {
	o := p.o
	path := o.FromBackup
	if path == "-" || !store.Local(path) {
		return usage(fmt.Errorf("--from-backup %s: restore reads a local backup file (what delete --backup wrote)", path))
	}
	all := p.input == ""
	var opts backup.IndexOptions
	if !all {
		opts.BySub, opts.ByEmail = p.scan.Columns.Sub, p.scan.Columns.Email
	}
	x, err := backup.OpenIndex(path, opts)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usage(fmt.Errorf("--from-backup %s: no such file", path))
	case err != nil:
		return usage(fmt.Errorf("--from-backup: %w", err))
	}
	p.backup = x
	if x.TornTail {
		p.log.Warn("the backup ends in a torn line, passed over: a kill cut it while delete wrote it, before that user's delete was sent", "backup", path)
	}
	if x.Older > 0 {
		p.log.Warn("some backup lines were written by an older cogsweep without groups or enabled state: those users come back disabled, in no group (the report says so)", "backup", path, "lines", x.Older)
	}
	if err := p.restorePool(x); err != nil {
		return usage(err)
	}
	if !all {
		return nil
	}
	p.tally = newTally(p.run)
	if err := p.observeBackup(x); err != nil {
		return usage(err)
	}
	p.input, p.src = path, Source{Path: path}
	p.scan = input.Summary{Rows: x.Rows, SHA256: x.SHA256, Columns: input.Columns{Username: true}}
	return nil
}

// restorePool settles --user-pool-id: the backup's pool, or --to-pool. A
// backup of another pool than --user-pool-id is refused: restoring into
// a new pool must be asked for.
func (p *plan) restorePool(x *backup.Index) error {
	o := p.o
	if len(x.Pools) > 1 {
		return fmt.Errorf("--from-backup %s holds users of %d pools (%s): restore takes a backup of one pool", x.Path(), len(x.Pools), strings.Join(x.Pools, ", "))
	}
	from := ""
	if len(x.Pools) == 1 {
		from = x.Pools[0]
	}
	switch {
	case o.ToPool != "" && o.UserPoolID != "" && o.UserPoolID != o.ToPool:
		return fmt.Errorf("--user-pool-id %s and --to-pool %s name different pools: give one", o.UserPoolID, o.ToPool)
	case o.ToPool != "":
		o.UserPoolID = o.ToPool
	case o.UserPoolID == "" && from != "":
		o.UserPoolID = from
		o.Sources["user-pool-id"] = "from-backup"
		if o.Values != nil {
			o.Values["user-pool-id"] = from
		}
	case from != "" && o.UserPoolID != from:
		return fmt.Errorf("--from-backup %s is a backup of pool %s, not of --user-pool-id %s: give --to-pool %s to restore its users into that pool", x.Path(), from, o.UserPoolID, o.UserPoolID)
	}
	return nil
}

// observeBackup is the pre-pass of a restore of the whole backup: its rows,
// once the pool is known (sharding, the guards' counts, the access check).
func (p *plan) observeBackup(x *backup.Index) error {
	rd, closeRd, err := x.Users()
	if err != nil {
		return err
	}
	defer closeRd()
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read --from-backup: %w", err)
		}
		p.tally.observe(row)
	}
}

// restoreRows opens the rows of a restore of the whole backup.
func (p *plan) restoreRows() (input.Reader, func(), error) {
	return p.backup.Users()
}

// attachRestore gives the job the backup and the create limiter, watched
// under --rate auto as writes are (watch.go), and returns what stops the
// watch.
func (p *plan) attachRestore(ctx context.Context, job *batch.Job, users Backend, acct *accountPlan) (func(), error) {
	if p.o.Action != batch.Restore {
		return func() {}, nil
	}
	job.Restore = &batch.Restorer{Backup: p.backup, Invite: p.o.ResendInvitation}
	creates := p.createLimiter(acct)
	job.Creates = creates
	if users == nil {
		return func() {}, nil // no call will be made
	}
	calls, ok := users.(restoreCalls)
	if !ok {
		return func() {}, errors.New("restore: this backend cannot create users")
	}
	job.Restore.Users = calls
	var stop func()
	job.Creates, stop = p.watchAccount(ctx, creates, acct, account.UserCreation)
	return stop, nil
}

// createLimiter paces AdminCreateUser, in the UserCreation category (shared
// with sign-ups): --create-rate, or under --rate auto a controller of its
// own whose ceiling is --create-rate, or the applied UserCreation quota
// when the flag was left at its default and the account plan read it
// (started at the free share that plan found, as writes are).
func (p *plan) createLimiter(acct *accountPlan) *pace.Limiter {
	o := p.o
	acct = acct.of(account.UserCreation)
	if o.Rate == "auto" {
		ceiling := o.CreateRate
		if acct != nil {
			ceiling = acct.maxRate
		}
		return autoLimiter(ceiling, acct, o.Burst)
	}
	return pace.NewFixed(o.CreateRate, o.Burst) // a fixed rate is the user's, as --rate is
}
