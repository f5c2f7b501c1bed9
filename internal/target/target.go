// Package target decides which user and which user pool an input row names:
// a row and the run's rules go in, a Target or the reason the row is
// rejected comes out. It makes no call: rows named by email are resolved to
// a username later, by the pipeline (internal/batch), which then sets the
// Target's Username and ResolvedBy.
//
// It is the one place for that rule. The pipeline, the guards' pool counts,
// the pre-flight's choice of a row to read and the report's not_attempted
// lines all ask it, so they cannot disagree about a row. It imports only
// input and report; anything may import it.
package target

import (
	"fmt"

	"github.com/cogsweep/cogsweep/internal/input"
)

// By is the column that names a row's user.
type By int

// The columns, in the order a row's values are taken: a username wins over
// everything; a token wins over a sub or an email (a row that carries its
// user's token is acted on with it).
const (
	ByNone By = iota
	ByUsername
	BySub
	ByEmail
	ByToken
)

// Admin reports whether the row names its user for IAM (Admin*) calls.
func (b By) Admin() bool { return b == ByUsername || b == BySub || b == ByEmail }

// Of says which column names row's user, from which values the row has;
// it checks none of them.
func Of(row input.Row) By {
	switch {
	case row.Username != "":
		return ByUsername
	case row.AccessToken == "" && row.Sub != "":
		return BySub
	case row.AccessToken == "" && row.Email != "":
		return ByEmail
	case row.AccessToken != "":
		return ByToken
	}
	return ByNone
}

// Rules are what a run accepts of its rows.
type Rules struct {
	// Action names the action in rejection messages.
	Action string
	// Admin: rows may name a user by username, sub or email (IAM calls).
	// Token: rows may carry an access token instead.
	Admin, Token bool
	// Pool is --user-pool-id: the pool of rows that name none.
	Pool string
	// Region, when set, is the run's: a row naming a pool of another region
	// is rejected rather than a call that could never succeed.
	Region string
	// Confirmed, when not nil and Destructive, are the only pools the run
	// may touch.
	Confirmed   map[string]bool
	Destructive bool
}

// Target is the user a row names.
type Target struct {
	By By
	// Pool is the row's user_pool_id, else Rules.Pool (admin rows).
	Pool string
	// Username is the name to call with: the username, or the sub (Admin*
	// calls accept a local user's sub as the username). An email row has
	// none until the pipeline resolves it.
	Username string
	Email    string // an email row's email, until resolved
	Token    string // a token row's access token
	// ResolvedBy says how an email row's username was found (report's
	// resolved_by); set by whoever resolves it.
	ResolvedBy string
}

// Rule names the check a rejected row failed.
type Rule string

// The checks, in the order Resolve applies them.
const (
	RuleParse        Rule = "parse"         // the reader rejected the record
	RuleNeedsToken   Rule = "needs_token"   // a user row for a token-only action
	RuleBadSub       Rule = "bad_sub"       // the sub is not a UUID
	RuleBadEmail     Rule = "bad_email"     // the email is not one
	RuleBadUsername  Rule = "bad_username"  // the username breaks Cognito's constraint
	RuleNoPool       Rule = "no_pool"       // neither the row nor the run names a pool
	RuleBadPool      Rule = "bad_pool"      // the pool id is malformed
	RuleOtherRegion  Rule = "other_region"  // the pool is not in the run's region
	RuleUnconfirmed  Rule = "unconfirmed"   // a destructive run did not confirm the pool
	RuleNeedsUser    Rule = "needs_user"    // a token row for an action that needs a username
	RuleNoIdentifier Rule = "no_identifier" // the row names no user at all
)

// Rejection is why a row names no user the run may act on. Message is the
// report's message for it.
type Rejection struct {
	Rule    Rule
	Message string
}

func reject(rule Rule, msg string) *Rejection { return &Rejection{Rule: rule, Message: msg} }

// Resolve decides which user row names under rules. On a rejection the
// Target holds what was decided before the failed check (the report names
// the user and pool as far as they are known).
func Resolve(row input.Row, rules Rules) (Target, *Rejection) {
	t := Target{By: Of(row)}
	if row.Err != "" {
		return t, reject(RuleParse, row.Err)
	}
	switch {
	case t.By.Admin():
		return resolveAdmin(row, rules, t)
	case t.By == ByToken:
		if !rules.Token {
			return t, reject(RuleNeedsUser, "row has only an access_token; "+rules.Action+" needs a username")
		}
		t.Token = row.AccessToken
		return t, nil
	}
	return t, reject(RuleNoIdentifier, "row has no username")
}

func resolveAdmin(row input.Row, rules Rules, t Target) (Target, *Rejection) {
	if !rules.Admin {
		return t, reject(RuleNeedsToken, "row names a user but "+rules.Action+" needs an access_token")
	}
	switch t.By {
	case BySub:
		t.Username = row.Sub
		if err := input.ValidSub(row.Sub); err != nil {
			return t, reject(RuleBadSub, err.Error())
		}
	case ByEmail:
		// A worker resolves it to a username (batch/resolve.go).
		if err := input.ValidEmail(row.Email); err != nil {
			return t, reject(RuleBadEmail, err.Error())
		}
		t.Email = row.Email
	default:
		t.Username = row.Username
		if err := input.ValidUsername(t.Username); err != nil {
			return t, reject(RuleBadUsername, err.Error())
		}
	}
	var rej *Rejection
	t.Pool, rej = Pool(row, rules)
	return t, rej
}

// Pool is the pool row's user is in, and whether the run may act on it:
// the row's user_pool_id, else the run's, well formed, in the run's region
// and, for a destructive run, confirmed. The pool is returned even when it
// is refused.
func Pool(row input.Row, rules Rules) (string, *Rejection) {
	pool := rules.Pool
	if row.UserPoolID != "" {
		pool = row.UserPoolID
	}
	switch {
	case pool == "":
		return pool, reject(RuleNoPool, "no user pool: give --user-pool-id or a user_pool_id column")
	case input.ValidPoolID(pool) != nil:
		return pool, reject(RuleBadPool, input.ValidPoolID(pool).Error())
	case rules.Region != "" && input.PoolRegion(pool) != rules.Region:
		return pool, reject(RuleOtherRegion, fmt.Sprintf("user pool %s is not in the run's region %s", pool, rules.Region))
	case rules.Confirmed != nil && rules.Destructive && !rules.Confirmed[pool]:
		return pool, reject(RuleUnconfirmed, fmt.Sprintf("user pool %s is not confirmed: add --confirm-pool-id %s", pool, pool))
	}
	return pool, nil
}

// Key is the key under which a row counts as a duplicate of an earlier
// one: the pool and the username (a sub stands for the username), the pool
// and the email as given (a repeated email is one user, whatever it
// resolves to; different inputs naming one user are caught after
// resolution, see batch.ResolvedUsers), or the access token's fingerprint.
// "" for rows that name no user.
func Key(row input.Row, defaultPool string) string {
	pool := defaultPool
	if row.UserPoolID != "" {
		pool = row.UserPoolID
	}
	switch Of(row) {
	case ByUsername:
		return pool + "\x00" + row.Username
	case BySub:
		return pool + "\x00" + row.Sub
	case ByEmail:
		// Its own key space: an email is not a username.
		return pool + "\x00email\x00" + row.Email
	case ByToken:
		return "token\x00" + input.TokenFingerprint(row.AccessToken)
	}
	return ""
}
