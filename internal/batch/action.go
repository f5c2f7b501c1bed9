package batch

import (
	"github.com/cogsweep/cogsweep/internal/report"
)

// Action is what a run does to each row's user.
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
)

// Actions lists every action in the order --help shows them.
var Actions = []Action{Disable, Delete, Enable, SignOut, DeleteAttributes, SelfDelete, Rollback}

// Destructive reports whether the action cannot be undone and so needs
// --confirm-pool-id and the --max-fraction guard.
func (a Action) Destructive() bool { return a == Delete || a == DeleteAttributes }

// TokenCapable reports whether rows may carry an access token instead of a
// username.
func (a Action) TokenCapable() bool { return a == SelfDelete || a == DeleteAttributes }

// AdminCapable reports whether rows may name a user by username (IAM calls).
func (a Action) AdminCapable() bool { return a != SelfDelete }

// done is the success outcome of the action's mutating call.
func (a Action) done(token bool) report.Outcome {
	switch a {
	case Disable:
		return report.Disabled
	case Delete:
		return report.Deleted
	case Enable, Rollback:
		return report.Enabled
	case SignOut:
		return report.SignedOut
	case DeleteAttributes:
		return report.AttributesDeleted
	case SelfDelete:
		return report.SelfDeleted
	}
	return ""
}

// would is the dry-run outcome for a row the real run would act on.
func (a Action) would() report.Outcome {
	name := string(a)
	if a == Rollback {
		name = string(Enable)
	}
	out := []byte(report.WouldPrefix + name)
	for i, c := range out {
		if c == '-' {
			out[i] = '_'
		}
	}
	return report.Outcome(out)
}
