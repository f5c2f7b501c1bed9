package target

import (
	"testing"

	"github.com/cogsweep/cogsweep/internal/input"
)

const (
	pool = "us-east-1_P1"
	sub  = "0d4c0a3e-5b1f-4c8e-9a2d-1f2e3d4c5b6a"
)

func TestResolve(t *testing.T) {
	admin := Rules{Action: "delete", Admin: true, Pool: pool, Region: "us-east-1"}
	tests := []struct {
		name  string
		row   input.Row
		rules Rules
		want  Target
		rule  Rule // "" : accepted
	}{
		{name: "username", row: input.Row{Username: "ann"}, rules: admin,
			want: Target{By: ByUsername, Pool: pool, Username: "ann"}},
		{name: "row pool wins", row: input.Row{Username: "ann", UserPoolID: "us-east-1_P2"}, rules: admin,
			want: Target{By: ByUsername, Pool: "us-east-1_P2", Username: "ann"}},
		{name: "sub is the username", row: input.Row{Sub: sub}, rules: admin,
			want: Target{By: BySub, Pool: pool, Username: sub}},
		{name: "email waits for resolution", row: input.Row{Email: "a@example.com"}, rules: admin,
			want: Target{By: ByEmail, Pool: pool, Email: "a@example.com"}},
		{name: "username wins over token", row: input.Row{Username: "ann", AccessToken: "tok"}, rules: admin,
			want: Target{By: ByUsername, Pool: pool, Username: "ann"}},
		{name: "token wins over sub", row: input.Row{Sub: sub, AccessToken: "tok"}, rules: Rules{Token: true},
			want: Target{By: ByToken, Token: "tok"}},
		{name: "parse error", row: input.Row{Err: "bad quote", Username: "ann"}, rules: admin,
			want: Target{By: ByUsername}, rule: RuleParse},
		{name: "user row of a token action", row: input.Row{Username: "ann"}, rules: Rules{Action: "self-delete", Token: true},
			want: Target{By: ByUsername}, rule: RuleNeedsToken},
		{name: "bad sub keeps the sub", row: input.Row{Sub: "not-a-uuid"}, rules: admin,
			want: Target{By: BySub, Username: "not-a-uuid"}, rule: RuleBadSub},
		{name: "bad email", row: input.Row{Email: "nobody"}, rules: admin,
			want: Target{By: ByEmail}, rule: RuleBadEmail},
		{name: "bad username", row: input.Row{Username: "a\x00b"}, rules: admin,
			want: Target{By: ByUsername, Username: "a\x00b"}, rule: RuleBadUsername},
		{name: "no pool", row: input.Row{Username: "ann"}, rules: Rules{Admin: true},
			want: Target{By: ByUsername, Username: "ann"}, rule: RuleNoPool},
		{name: "bad pool", row: input.Row{Username: "ann", UserPoolID: "nopool"}, rules: admin,
			want: Target{By: ByUsername, Username: "ann", Pool: "nopool"}, rule: RuleBadPool},
		{name: "other region", row: input.Row{Username: "ann", UserPoolID: "eu-west-1_P1"}, rules: admin,
			want: Target{By: ByUsername, Username: "ann", Pool: "eu-west-1_P1"}, rule: RuleOtherRegion},
		{name: "unconfirmed pool of a destructive run",
			row:   input.Row{Username: "ann", UserPoolID: "us-east-1_P2"},
			rules: Rules{Admin: true, Pool: pool, Confirmed: map[string]bool{pool: true}, Destructive: true},
			want:  Target{By: ByUsername, Username: "ann", Pool: "us-east-1_P2"}, rule: RuleUnconfirmed},
		{name: "unconfirmed pool of a reversible run",
			row:   input.Row{Username: "ann", UserPoolID: "us-east-1_P2"},
			rules: Rules{Admin: true, Pool: pool, Confirmed: map[string]bool{pool: true}},
			want:  Target{By: ByUsername, Username: "ann", Pool: "us-east-1_P2"}},
		{name: "token row of an admin action", row: input.Row{AccessToken: "tok"}, rules: admin,
			want: Target{By: ByToken}, rule: RuleNeedsUser},
		{name: "nothing", row: input.Row{UserPoolID: pool}, rules: admin,
			want: Target{By: ByNone}, rule: RuleNoIdentifier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rej := Resolve(tt.row, tt.rules)
			if got != tt.want {
				t.Errorf("target %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.rule == "" && rej != nil:
				t.Fatalf("rejected (%s: %s), want accepted", rej.Rule, rej.Message)
			case tt.rule != "" && rej == nil:
				t.Fatalf("accepted, want rejected by %s", tt.rule)
			case rej != nil && (rej.Rule != tt.rule || rej.Message == ""):
				t.Fatalf("rejected by %s (%q), want %s", rej.Rule, rej.Message, tt.rule)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		a, b input.Row
		same bool
	}{
		{name: "username in the default pool and named", a: input.Row{Username: "ann"}, b: input.Row{Username: "ann", UserPoolID: pool}, same: true},
		{name: "other pool", a: input.Row{Username: "ann"}, b: input.Row{Username: "ann", UserPoolID: "us-east-1_P2"}},
		{name: "sub stands for the username", a: input.Row{Sub: sub}, b: input.Row{Username: sub}, same: true},
		{name: "email is not a username", a: input.Row{Email: "a@example.com"}, b: input.Row{Username: "a@example.com"}},
		{name: "one token", a: input.Row{AccessToken: "tok"}, b: input.Row{AccessToken: "tok", Sub: sub}, same: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := Key(tt.a, pool) == Key(tt.b, pool); same != tt.same {
				t.Fatalf("same key %v, want %v", same, tt.same)
			}
		})
	}
	if k := Key(input.Row{UserPoolID: pool}, pool); k != "" {
		t.Fatalf("a row naming no user has key %q, want none", k)
	}
}

func TestRecordAndNotReached(t *testing.T) {
	tests := []struct {
		name                     string
		row                      input.Row
		user, pool, in, resolved string
		notUser, notPool, notIn  string
	}{
		{name: "username", row: input.Row{N: 1, Username: "ann"},
			user: "ann", pool: pool, notUser: "ann", notPool: pool},
		{name: "sub: resolved when reached, as given when not", row: input.Row{N: 2, Sub: sub},
			user: sub, pool: pool, in: sub, resolved: ResolvedSub, notPool: pool, notIn: sub},
		{name: "email", row: input.Row{N: 3, Email: "a@example.com"},
			pool: pool, in: "a@example.com", notPool: pool, notIn: "a@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, rej := Resolve(tt.row, Rules{Admin: true, Pool: pool})
			if rej != nil {
				t.Fatal(rej.Message)
			}
			r := tg.Record(tt.row)
			if r.Row != tt.row.N || r.Username != tt.user || r.UserPoolID != tt.pool || r.Input != tt.in || r.ResolvedBy != tt.resolved {
				t.Errorf("Record %+v", r)
			}
			n := NotReached(tt.row, pool)
			if n.Row != tt.row.N || n.Username != tt.notUser || n.UserPoolID != tt.notPool || n.Input != tt.notIn || n.ResolvedBy != "" {
				t.Errorf("NotReached %+v", n)
			}
		})
	}
}
