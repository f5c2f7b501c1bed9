package batch

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// testToken is shaped like a Cognito access token (header.payload.signature)
// with the username claim set.
func testToken(username string) string {
	enc := base64.RawURLEncoding
	payload := fmt.Sprintf(`{"sub":"0b5c1a2e-1111-4222-8333-444455556666","token_use":"access","scope":"aws.cognito.signin.user.admin","username":%q}`, username)
	return enc.EncodeToString([]byte(`{"kid":"k1","alg":"RS256"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
}

func tokenRows(tokens ...string) *sliceReader {
	r := &sliceReader{}
	for i, tok := range tokens {
		r.rows = append(r.rows, input.Row{N: i + 1, AccessToken: tok})
	}
	return r
}

// leaks reports whether s holds the token or any of its parts.
func leaks(s, token string) bool {
	if strings.Contains(s, token) {
		return true
	}
	for _, p := range strings.Split(token, ".") {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func TestJob_TokenRows_Outcomes(t *testing.T) {
	tests := []struct {
		name     string
		action   Action
		err      error
		prior    map[int]string
		want     report.Outcome
		wantCode string
		repeated bool
	}{
		{name: "self delete", action: SelfDelete, want: report.SelfDeleted},
		{name: "delete attributes with a token", action: DeleteAttributes, want: report.AttributesDeleted},
		{name: "expired or revoked token", action: SelfDelete, err: apiErr("NotAuthorizedException"), want: report.Failed, wantCode: "NotAuthorizedException"},
		{name: "password reset required", action: DeleteAttributes, err: apiErr("PasswordResetRequiredException"), want: report.Failed, wantCode: "PasswordResetRequiredException"},
		{name: "user not confirmed", action: SelfDelete, err: apiErr("UserNotConfirmedException"), want: report.Failed, wantCode: "UserNotConfirmedException"},
		{name: "token of an unknown app client", action: SelfDelete, err: apiErr("ResourceNotFoundException"), want: report.Failed, wantCode: "ResourceNotFoundException"},
		{name: "refused by a WAF", action: SelfDelete, err: apiErr("ForbiddenException"), want: report.Failed, wantCode: "ForbiddenException"},
		{name: "self delete repeated after a crash: the token died with its user", action: SelfDelete,
			prior: map[int]string{1: checkpoint.ReadNone}, err: apiErr("NotAuthorizedException"), want: report.SelfDeleted, repeated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := testToken("alice")
			u := &users{mut: func(_, _, got string) error {
				if got != tok {
					return errors.New("the call did not get the row's token")
				}
				return tt.err
			}}
			j, sink, _ := newJob(tt.action, u)
			j.Attributes, j.Prior = []string{"custom:team"}, tt.prior
			if _, err := j.Run(t.Context(), tokenRows(tok)); err != nil {
				t.Fatalf("Run: %v (a token row's failure must not stop the run)", err)
			}
			r := sink.recs[1]
			if r.Outcome != tt.want || r.ErrorCode != tt.wantCode || r.Repeated != tt.repeated {
				t.Fatalf("outcome %s code %q repeated %v (%s), want %s %q %v", r.Outcome, r.ErrorCode, r.Repeated, r.Message, tt.want, tt.wantCode, tt.repeated)
			}
			if r.Transient {
				t.Error("a token failure is permanent, not transient")
			}
			if r.TokenSHA256 != input.TokenFingerprint(tok) || len(r.TokenSHA256) != 12 {
				t.Errorf("token_sha256 %q", r.TokenSHA256)
			}
			if r.Username != "alice" || r.ResolvedBy != target.ResolvedToken {
				t.Errorf("username %q resolved_by %q, want the token's claim", r.Username, r.ResolvedBy)
			}
			if r.UserPoolID != "" {
				t.Errorf("a token row names no pool, got %q", r.UserPoolID)
			}
		})
	}
}

func TestJob_TokenForbiddenStreakStops(t *testing.T) {
	u := &users{mut: func(string, string, string) error { return apiErr("ForbiddenException") }}
	j, sink, _ := newJob(SelfDelete, u)
	j.Concurrency, j.MaxStreak = 1, 5
	toks := make([]string, 30)
	for i := range toks {
		toks[i] = testToken(fmt.Sprintf("user%02d", i))
	}
	_, err := j.Run(t.Context(), tokenRows(toks...))
	var fe *retry.FatalError
	if !errors.As(err, &fe) || fe.Code != "ForbiddenException" {
		t.Fatalf("err %v, want a retry.FatalError ForbiddenException after %d in a row", err, j.MaxStreak)
	}
	if !strings.Contains(fe.Error(), "WAF") {
		t.Errorf("message %q does not say what refused the calls", fe.Error())
	}
	// Permanent: one attempt each, and the run stops at the streak.
	if n := u.n("selfdelete"); n != j.MaxStreak {
		t.Fatalf("%d calls, want %d (one per row, then stop)", n, j.MaxStreak)
	}
	if got := countOutcome(sink, report.Failed); got != j.MaxStreak {
		t.Fatalf("%d rows failed, want %d", got, j.MaxStreak)
	}
}

func TestJob_TokenForbiddenInterruptedBySuccessGoesOn(t *testing.T) {
	calls := 0
	u := &users{mut: func(string, string, string) error {
		calls++ // Concurrency 1: one call at a time
		if calls%4 == 0 {
			return nil
		}
		return apiErr("ForbiddenException")
	}}
	j, sink, _ := newJob(SelfDelete, u)
	j.Concurrency, j.MaxStreak = 1, 5
	toks := make([]string, 40)
	for i := range toks {
		toks[i] = testToken(fmt.Sprintf("user%02d", i))
	}
	if _, err := j.Run(t.Context(), tokenRows(toks...)); err != nil {
		t.Fatalf("Run: %v; three refusals in a row are under the streak", err)
	}
	if got := countOutcome(sink, report.SelfDeleted); got != 10 {
		t.Fatalf("%d self_deleted, want 10", got)
	}
}

func countOutcome(s *memSink, o report.Outcome) int {
	n := 0
	for _, r := range s.recs {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// An error that quotes the token (some proxy or future SDK layer) must not
// carry it into the report or into the error that stops the run.
func TestJob_TokenNeverInRecordsOrErrors(t *testing.T) {
	tok := testToken("mallory")
	parts := strings.Split(tok, ".")
	tests := []struct {
		name  string
		err   error
		fatal bool
	}{
		{name: "permanent error quoting the token", err: fmt.Errorf("bad token %s: %w", tok, apiErr("NotAuthorizedException"))},
		{name: "permanent error quoting the payload", err: fmt.Errorf("claims %s: %w", parts[1], apiErr("NotAuthorizedException"))},
		{name: "fatal error quoting the token", fatal: true,
			err: retry.Wrap(retry.Decision{Class: retry.Fatal, Code: "UnrecognizedClientException"}, fmt.Errorf("sent %s, %s", tok, parts[2]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &users{mut: func(string, string, string) error { return tt.err }}
			j, sink, _ := newJob(SelfDelete, u)
			_, err := j.Run(t.Context(), tokenRows(tok))
			if (err != nil) != tt.fatal {
				t.Fatalf("Run: %v, want fatal %v", err, tt.fatal)
			}
			if err != nil {
				if leaks(err.Error(), tok) || leaks(fmt.Sprintf("%+v %#v", err, err), tok) {
					t.Fatalf("run error leaks the token: %v", err)
				}
				var fe *retry.FatalError
				if !errors.As(err, &fe) || fe.Code != "UnrecognizedClientException" {
					t.Fatalf("err %v: the code must survive the redaction", err)
				}
			}
			for _, r := range sink.recs {
				if leaks(fmt.Sprintf("%+v", r), tok) {
					t.Fatalf("record leaks the token: %+v", r)
				}
				if err == nil && !strings.Contains(r.Message, "[token]") {
					t.Errorf("message %q: want the token replaced by [token]", r.Message)
				}
			}
		})
	}
}

// skipReader marks rows as already decided, as rollback's report reader does.
type skipReader struct {
	*sliceReader
	skip map[int]string
}

func (s *skipReader) SkipReason(row input.Row) (string, bool) {
	reason, ok := s.skip[row.N]
	return reason, ok
}

func TestJob_SkipReader(t *testing.T) {
	u := &users{mut: succeed}
	j, sink, intents := newJob(Rollback, u)
	rd := &skipReader{sliceReader: &sliceReader{rows: []input.Row{
		{N: 3, Username: "alice", UserPoolID: "us-east-1_P1"},
		{N: 1, Username: "bob", UserPoolID: "us-east-1_P1"},
		{N: 7, Username: "not a valid username"}, // skipped before validation
	}}, skip: map[int]string{1: "was already_disabled", 7: "was invalid"}}
	if _, err := j.Run(t.Context(), rd); err != nil {
		t.Fatal(err)
	}
	if n := u.n("enable"); n != 1 {
		t.Fatalf("%d enable calls, want 1", n)
	}
	want := map[int]report.Outcome{3: report.Enabled, 1: report.Skipped, 7: report.Skipped}
	for row, o := range want {
		r := sink.recs[row]
		if r.Outcome != o {
			t.Errorf("row %d: %s (%s), want %s", row, r.Outcome, r.Message, o)
		}
	}
	if r := sink.recs[1]; r.Message != "was already_disabled" || r.Username != "bob" || r.UserPoolID != "us-east-1_P1" || r.Attempts != 0 {
		t.Errorf("skipped row: %+v", r)
	}
	if len(intents.rows) != 1 || intents.rows[3] != checkpoint.ReadNone {
		t.Errorf("intents %v, want one for row 3", intents.rows)
	}
}
