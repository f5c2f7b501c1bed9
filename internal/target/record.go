package target

import (
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
)

// How a row's user was identified when the input did not give a username
// and no call was needed: the report's resolved_by. (Email rows are
// resolved by calls: batch names those.)
const (
	// ResolvedSub: Admin* calls accept a local user's sub as the Username,
	// so the sub is used as is, without a call.
	ResolvedSub = "sub"
	// ResolvedToken: a token row's username was read from the access
	// token's payload. The token's signature is not verified: a forged
	// token can name anyone, so the name is a hint for people, never proof.
	// (A row that ended self_deleted or attributes_deleted was accepted by
	// Cognito, which does verify it.)
	ResolvedToken = "token_claim"
)

// Record is a report line naming the user t is for: row, username, pool,
// the input value and how it was resolved, a token's fingerprint. The
// caller adds the action, outcome and the rest.
func (t Target) Record(row input.Row) report.Record {
	r := report.Record{Row: row.N, Username: t.Username, UserPoolID: t.Pool}
	if r.Username == "" {
		r.Username = row.Username
	}
	if row.Username == "" && row.Sub != "" {
		r.Input, r.ResolvedBy = row.Sub, ResolvedSub
	}
	if row.Username == "" && row.Sub == "" && row.AccessToken == "" && row.Email != "" {
		r.Input, r.ResolvedBy = row.Email, t.ResolvedBy
	}
	if row.AccessToken != "" && row.Username == "" {
		tokenIdentity(&r, row.AccessToken)
	}
	return r
}

// NotReached is the report line naming the user of a row the run never
// reached. The row was not resolved, so the line keeps the values as given
// (a sub is the input, not yet the username) with the pool the row would
// have used.
func NotReached(row input.Row, defaultPool string) report.Record {
	r := report.Record{Row: row.N, Username: row.Username, UserPoolID: row.UserPoolID}
	if row.Username == "" && row.AccessToken == "" {
		r.Input = row.Sub
		if r.Input == "" {
			r.Input = row.Email
		}
	}
	if r.UserPoolID == "" && (r.Username != "" || r.Input != "") {
		r.UserPoolID = defaultPool
	}
	if row.Username == "" && row.AccessToken != "" {
		tokenIdentity(&r, row.AccessToken)
	}
	return r
}

// tokenIdentity names a token row's user by the token's fingerprint and,
// where the record has no username yet, the (unverified) username claim.
func tokenIdentity(r *report.Record, token string) {
	r.TokenSHA256 = input.TokenFingerprint(token)
	if u := input.TokenUsername(token); u != "" && r.Username == "" {
		r.Username, r.ResolvedBy = u, ResolvedToken
	}
}
