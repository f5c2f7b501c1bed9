package batch

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// users is a hand-written fake of cognito.Users: get answers GetUser, mut
// every mutating call. Calling one that is unset panics, naming it, so a
// test cannot pass on a success nobody set up (litestream's mock does the
// same).
type users struct {
	mu    sync.Mutex
	calls map[string]int
	get   func(pool, user string) (cognito.User, error)
	mut   func(op, pool, user string) error
}

var _ cognito.Users = (*users)(nil)

// enabledUser is a get that finds every user, enabled.
func enabledUser(_, user string) (cognito.User, error) {
	return cognito.User{Username: user, Enabled: true}, nil
}

// succeed is a mut under which every call succeeds.
func succeed(string, string, string) error { return nil }

func (u *users) count(op string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls == nil {
		u.calls = map[string]int{}
	}
	u.calls[op]++
}

func (u *users) n(op string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[op]
}

func (u *users) GetUser(_ context.Context, pool, user string) (cognito.User, string, error) {
	u.count("get")
	if u.get == nil {
		panic("fake users: GetUser called, but the test set no get")
	}
	got, err := u.get(pool, user)
	return got, "", err
}

func (u *users) m(op, pool, user string) (string, error) {
	u.count(op)
	if u.mut == nil {
		panic("fake users: " + op + " called, but the test set no mut")
	}
	return "req-" + op, u.mut(op, pool, user)
}

func (u *users) DisableUser(_ context.Context, p, n string) (string, error) {
	return u.m("disable", p, n)
}
func (u *users) EnableUser(_ context.Context, p, n string) (string, error) {
	return u.m("enable", p, n)
}
func (u *users) DeleteUser(_ context.Context, p, n string) (string, error) {
	return u.m("delete", p, n)
}
func (u *users) GlobalSignOut(_ context.Context, p, n string) (string, error) {
	return u.m("signout", p, n)
}
func (u *users) DeleteAttributes(_ context.Context, p, n string, _ []string) (string, error) {
	return u.m("delattrs", p, n)
}
func (u *users) SelfDelete(_ context.Context, tok string) (string, error) {
	return u.m("selfdelete", "", tok)
}
func (u *users) SelfDeleteAttributes(_ context.Context, tok string, _ []string) (string, error) {
	return u.m("selfdelattrs", "", tok)
}

// unpaced is a Limiter that gives every token at once. It is not of size
// zero: pointers to distinct zero-size values may be equal.
type unpaced struct{ _ int }

func (*unpaced) Wait(ctx context.Context) error { return ctx.Err() }
func (*unpaced) Throttled()                     {}
func (*unpaced) Succeeded(time.Duration)        {}
func (*unpaced) Rate() float64                  { return 0 }

type sliceReader struct {
	rows []input.Row
	i    int
}

func (s *sliceReader) Columns() input.Columns { return input.Columns{Username: true} }
func (s *sliceReader) Next() (input.Row, error) {
	if s.i >= len(s.rows) {
		return input.Row{}, io.EOF
	}
	s.i++
	return s.rows[s.i-1], nil
}

type memSink struct {
	mu   sync.Mutex
	recs map[int]report.Record
}

func (m *memSink) Write(r *report.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[int]report.Record{}
	}
	if _, ok := m.recs[r.Row]; ok {
		return errors.New("second outcome for a row")
	}
	m.recs[r.Row] = *r
	return nil
}
func (m *memSink) Sync() error { return nil }

type memIntents struct {
	mu   sync.Mutex
	rows map[int]string
}

func (m *memIntents) Intent(row int, read string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rows == nil {
		m.rows = map[int]string{}
	}
	m.rows[row] = read
	return nil
}
func (m *memIntents) Sync() error { return nil }

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "x"} }

func rows(names ...string) *sliceReader {
	r := &sliceReader{}
	for i, n := range names {
		r.rows = append(r.rows, input.Row{N: i + 1, Username: n})
	}
	return r
}

func newJob(a Action, u *users) (*Job, *memSink, *memIntents) {
	sink, intents := &memSink{}, &memIntents{}
	o := NewOptions()
	o.Action, o.Pool, o.Region, o.Concurrency = a, "us-east-1_P1", "us-east-1", 2
	o.Retry = retry.Policy{Base: time.Microsecond, Cap: time.Microsecond, MaxAttempts: 3}
	return &Job{Options: o, Users: u, Report: sink, Intents: intents}, sink, intents
}

func TestJob_Outcomes(t *testing.T) {
	absent := apiErr("UserNotFoundException")
	tests := []struct {
		name    string
		action  Action
		get     func(pool, user string) (cognito.User, error)
		mut     func(op, pool, user string) error
		prior   map[int]string
		dryRun  bool
		want    report.Outcome
		repeat  bool
		writes  int // mutating calls
		intents int
	}{
		{name: "disable enabled user", action: Disable, get: enabledUser, mut: succeed, want: report.Disabled, writes: 1, intents: 1},
		{name: "disable already disabled costs no write", action: Disable,
			get:  func(_, u string) (cognito.User, error) { return cognito.User{Username: u}, nil },
			want: report.AlreadyDisabled},
		{name: "disable absent user", action: Disable,
			get:  func(string, string) (cognito.User, error) { return cognito.User{}, absent },
			want: report.NotFound},
		{name: "disable after a crash does not read again", action: Disable, prior: map[int]string{1: checkpoint.ReadEnabled},
			get: func(string, string) (cognito.User, error) { return cognito.User{}, errors.New("must not read") },
			mut: succeed, want: report.Disabled, repeat: true, writes: 1},
		{name: "delete", action: Delete, mut: succeed, want: report.Deleted, writes: 1, intents: 1},
		{name: "delete of an absent user", action: Delete, mut: func(string, string, string) error { return absent },
			want: report.NotFound, writes: 1, intents: 1},
		{name: "delete repeated after a crash finds the user gone", action: Delete, prior: map[int]string{1: checkpoint.ReadNone},
			mut: func(string, string, string) error { return absent }, want: report.Deleted, repeat: true, writes: 1},
		{name: "invalid parameter fails the row", action: Delete,
			mut:  func(string, string, string) error { return &types.InvalidParameterException{Message: new(string)} },
			want: report.Failed, writes: 1, intents: 1},
		{name: "throttled to the end fails transiently", action: Enable,
			mut:  func(string, string, string) error { return apiErr("TooManyRequestsException") },
			want: report.Failed, writes: 3, intents: 1},
		{name: "dry run reads and plans", action: Delete, dryRun: true, get: enabledUser, want: report.Outcome("would_delete")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &users{get: tt.get, mut: tt.mut}
			j, sink, intents := newJob(tt.action, u)
			j.Prior = tt.prior
			j.DryRun = tt.dryRun
			j.Writes, j.Reads = &unpaced{}, &unpaced{}
			st, err := j.Run(t.Context(), rows("alice"))
			if err != nil {
				t.Fatal(err)
			}
			r := sink.recs[1]
			if r.Outcome != tt.want || r.Repeated != tt.repeat {
				t.Fatalf("outcome %s repeated %v (%s), want %s repeated %v", r.Outcome, r.Repeated, r.Message, tt.want, tt.repeat)
			}
			writes := 0
			for _, op := range []string{"disable", "delete", "enable"} {
				writes += u.n(op)
			}
			if writes != tt.writes {
				t.Errorf("%d mutating calls, want %d", writes, tt.writes)
			}
			// The summary and the bar show the two quotas' rates apart.
			if st.Writes != writes || st.Reads != u.n("get") {
				t.Errorf("stats: %d writes, %d reads; the fake saw %d and %d", st.Writes, st.Reads, writes, u.n("get"))
			}
			if len(intents.rows) != tt.intents {
				t.Errorf("%d intents journaled, want %d", len(intents.rows), tt.intents)
			}
		})
	}
}

func TestJob_FatalStopsDispatch(t *testing.T) {
	u := &users{mut: func(string, string, string) error { return apiErr("AccessDeniedException") }}
	j, sink, _ := newJob(Delete, u)
	names := make([]string, 100)
	for i := range names {
		names[i] = "user" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	_, err := j.Run(t.Context(), rows(names...))
	var fe *retry.FatalError
	if !errors.As(err, &fe) || fe.Code != "AccessDeniedException" {
		t.Fatalf("err %v, want a retry.FatalError with the code", err)
	}
	if n := u.n("delete"); n > j.Concurrency {
		t.Fatalf("%d calls after a fatal error, want at most %d in flight", n, j.Concurrency)
	}
	for _, r := range sink.recs {
		if r.Outcome != report.NotAttempted {
			t.Fatalf("row %d: %s, want not_attempted", r.Row, r.Outcome)
		}
	}
}

func TestJob_StreakOfTransientFailuresStops(t *testing.T) {
	u := &users{mut: func(string, string, string) error {
		return &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}
	}}
	j, _, _ := newJob(Enable, u)
	j.Concurrency, j.MaxStreak = 1, 5
	names := make([]string, 50)
	for i := range names {
		names[i] = "u" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	_, err := j.Run(t.Context(), rows(names...))
	var fe *retry.FatalError
	if !errors.As(err, &fe) {
		t.Fatalf("err %v, want a retry.FatalError after a streak", err)
	}
	if n := u.n("enable"); n > 6*j.Retry.MaxAttempts {
		t.Fatalf("%d calls: the streak did not stop the run", n)
	}
}

func TestJob_PrepareRejects(t *testing.T) {
	tests := []struct {
		name   string
		row    input.Row
		conf   map[string]bool
		want   report.Outcome
		reason string // the rule that fired, as the report's message says it
	}{
		{name: "parser error", row: input.Row{N: 1, Err: "bare quote"}, want: report.Invalid, reason: "bare quote"},
		{name: "space in username", row: input.Row{N: 1, Username: "a b"}, want: report.Invalid, reason: "username has a space at position 2"},
		{name: "malformed pool", row: input.Row{N: 1, Username: "a", UserPoolID: "nope"}, want: report.Invalid, reason: "user pool id has no underscore"},
		{name: "pool of another region", row: input.Row{N: 1, Username: "a", UserPoolID: "eu-west-1_X1"}, want: report.Invalid,
			reason: "user pool eu-west-1_X1 is not in the run's region us-east-1"},
		{name: "unconfirmed pool", row: input.Row{N: 1, Username: "a", UserPoolID: "us-east-1_Other"}, conf: map[string]bool{"us-east-1_P1": true}, want: report.Invalid,
			reason: "user pool us-east-1_Other is not confirmed: add --confirm-pool-id us-east-1_Other"},
		{name: "token row for an admin action", row: input.Row{N: 1, AccessToken: "tok"}, want: report.Invalid,
			reason: "row has only an access_token; delete needs a username"},
		{name: "nothing", row: input.Row{N: 1}, want: report.Invalid, reason: "row has no username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _, _ := newJob(Delete, &users{})
			j.ConfirmedPools = tt.conf
			_, rec := j.prepare(tt.row)
			if rec == nil || rec.Outcome != tt.want {
				t.Fatalf("got %+v, want %s", rec, tt.want)
			}
			if !strings.HasPrefix(rec.Message, tt.reason) {
				t.Errorf("reason %q, want %q", rec.Message, tt.reason)
			}
		})
	}
}

// failingIntents is an intent log whose every write fails.
type failingIntents struct{ err error }

func (f failingIntents) Intent(int, string) error { return f.err }
func (f failingIntents) Sync() error              { return nil }

// An intent that cannot be journaled stops the run before its call: the
// row was not attempted, and no call was made or counted.
func TestJob_IntentWriteFailsBeforeTheCall(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		op     string
	}{
		{name: "delete", action: Delete, op: "delete"},
		{name: "disable after its read", action: Disable, op: "disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &users{get: enabledUser, mut: succeed}
			j, sink, _ := newJob(tt.action, u)
			j.Concurrency = 1
			j.Intents = failingIntents{err: errors.New("disk full")}
			st, err := j.Run(t.Context(), rows("alice"))
			var fe *retry.FatalError
			if !errors.As(err, &fe) || fe.Code != "CheckpointWriteFailed" || fe.Row != 1 {
				t.Fatalf("err %v, want a CheckpointWriteFailed fault at row 1", err)
			}
			if n := u.n(tt.op); n != 0 {
				t.Errorf("%d %s calls, want none without the intent", n, tt.op)
			}
			rec := sink.recs[1]
			if rec.Outcome != report.NotAttempted || rec.Attempts != u.n("get") || st.Calls != u.n("get") {
				t.Errorf("outcome %s, %d attempts, %d calls; want not_attempted with only the read (%d) counted",
					rec.Outcome, rec.Attempts, st.Calls, u.n("get"))
			}
		})
	}
}
