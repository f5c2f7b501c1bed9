package batch

import (
	"context"
	"fmt"
	"strings"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// Action is what a run does to each row's user. Each action is described
// by a spec, in a file of its own (action_*.go); the pipeline (process.go)
// runs the steps a spec names and knows no action by name.
type Action string

// Actions. Rollback is Enable applied to the rows a disable report says it
// disabled; the rows themselves are chosen by the caller.
const (
	Disable          Action = "disable"
	Delete           Action = "delete"
	Enable           Action = "enable"
	SignOut          Action = "sign-out"
	DeleteAttributes Action = "delete-attributes"
	SelfDelete       Action = "self-delete"
	Rollback         Action = "rollback"
	Restore          Action = "restore"
)

// Actions lists every action in the order --help shows them.
var Actions = []Action{Disable, Delete, Enable, SignOut, DeleteAttributes, SelfDelete, Rollback, Restore}

// Quota is a Cognito request-rate category: the limiter an action's
// mutating call takes its tokens from.
type Quota string

// The categories a run's calls spend.
const (
	UserUpdate   Quota = "UserUpdate"   // AdminDisableUser, AdminDeleteUser, DeleteUser, ...
	UserCreation Quota = "UserCreation" // AdminCreateUser (restore), shared with sign-ups
)

// spec is what an action does to one row's user, in the order process
// takes the steps.
type spec struct {
	// admin: rows may name a user by username, sub or email (IAM calls);
	// token: rows may carry an access token instead.
	admin, token bool
	// destructive: it cannot be undone, so it needs --confirm-pool-id and
	// the --max-fraction guard.
	destructive bool
	// readFirst says whether a real run reads the user (AdminGetUser)
	// before the call: the action decides on the user's state. A dry run
	// always reads. nil: no read.
	readFirst func(o Options) bool
	// judge settles a row on the user as read, without the call: an
	// outcome and its message, or "" to go on. nil: every user goes on.
	judge func(j *Job, u cognito.User) (report.Outcome, string)
	// backsUp: the user is kept (Job.Backup, when set) before the call.
	backsUp bool
	// quota is the category the mutating call spends.
	quota Quota
	// call is the mutating call for a row.
	call func(j *Job, t task) callFn
	// done is the outcome of a call that succeeded; would, a dry run's.
	done, would report.Outcome
	// goneIsDone: when a call that may already have run (an earlier
	// attempt, an earlier run) finds the user gone, it was that call that
	// removed it: the outcome is done, repeated.
	goneIsDone bool
	// deadTokenIsDone: the same for a token refused as NotAuthorized: it
	// died with its user.
	deadTokenIsDone bool
	// steps, when set, are the action's own steps, taken instead of the
	// read, backup and call above: restore makes several calls a row.
	steps func(p *rowRun) result
}

// spec is a's. An unknown action's rows fail with a call that says so.
func (a Action) spec() spec {
	switch a {
	case Disable:
		return disableSpec()
	case Delete:
		return deleteSpec()
	case Enable, Rollback:
		return enableSpec()
	case SignOut:
		return signOutSpec()
	case DeleteAttributes:
		return deleteAttributesSpec()
	case SelfDelete:
		return selfDeleteSpec()
	case Restore:
		return restoreSpec()
	}
	return spec{admin: true, call: func(*Job, task) callFn {
		return func(context.Context) (string, error) { return "", fmt.Errorf("unknown action %q", a) }
	}}
}

// Destructive reports whether the action cannot be undone and so needs
// --confirm-pool-id and the --max-fraction guard.
func (a Action) Destructive() bool { return a.spec().destructive }

// TokenCapable reports whether rows may carry an access token instead of a
// username.
func (a Action) TokenCapable() bool { return a.spec().token }

// AdminCapable reports whether rows may name a user by username (IAM calls).
func (a Action) AdminCapable() bool { return a.spec().admin }

// would is the dry-run outcome of the action named a.
func would(a Action) report.Outcome {
	return report.Outcome(report.WouldPrefix + strings.ReplaceAll(string(a), "-", "_"))
}
