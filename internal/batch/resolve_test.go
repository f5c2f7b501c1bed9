package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// lookups is a hand-written fake of Lookups: pools by id, users by email.
type lookups struct {
	mu       sync.Mutex
	pools    map[string]cognito.Pool
	byEmail  map[string][]string
	groups   map[string][]string
	describe int
	lists    int
	listErr  error
}

func (l *lookups) DescribePool(_ context.Context, pool string) (cognito.Pool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.describe++
	p, ok := l.pools[pool]
	if !ok {
		return cognito.Pool{}, apiErr("ResourceNotFoundException")
	}
	return p, nil
}

func (l *lookups) FindByEmail(_ context.Context, _, email, token string) ([]string, string, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lists++
	if l.listErr != nil {
		return nil, "", "", l.listErr
	}
	if token != "" {
		return nil, "", "req-list", errors.New("unexpected page token")
	}
	return slices.Clone(l.byEmail[email]), "", "req-list", nil
}

func (l *lookups) UserGroups(_ context.Context, _, username string) ([]string, string, error) {
	return l.groups[username], "req-groups", nil
}

func emailRows(emails ...string) *sliceReader {
	r := &sliceReader{}
	for i, e := range emails {
		r.rows = append(r.rows, input.Row{N: i + 1, Email: e})
	}
	return r
}

const emailPool = "us-east-1_P1"

func TestJob_EmailRows(t *testing.T) {
	plain := cognito.Pool{ID: emailPool}
	byEmail := cognito.Pool{ID: emailPool, UsernameAttributes: []string{"email"}}
	alias := cognito.Pool{ID: emailPool, AliasAttributes: []string{"email"}}
	absent := apiErr("UserNotFoundException")
	tests := []struct {
		name   string
		pool   cognito.Pool
		action Action
		known  map[string][]string // ListUsers answers
		users  map[string]bool     // usernames the admin calls accept
		prior  map[int]string
		email  string
		want   report.Outcome
		user   string // resolved username in the report
		by     string
		lists  int
		reads  int
		writes int
		repeat bool
	}{
		{name: "plain pool: ListUsers finds one", pool: plain, action: Delete, email: "ann@example.com",
			known: map[string][]string{"ann@example.com": {"ann"}}, users: map[string]bool{"ann": true},
			want: report.Deleted, user: "ann", by: ResolvedListUsers, lists: 1, writes: 1},
		{name: "plain pool: no match", pool: plain, action: Delete, email: "nobody@example.com",
			want: report.NotFound, by: ResolvedListUsers, lists: 1},
		{name: "plain pool: two users share the email", pool: plain, action: Delete, email: "twin@example.com",
			known: map[string][]string{"twin@example.com": {"twin-native", "Google_1234"}},
			want:  report.Invalid, by: ResolvedListUsers, lists: 1},
		{name: "email is the username: no lookup", pool: byEmail, action: Disable, email: "bo@example.com",
			users: map[string]bool{"bo@example.com": true},
			want:  report.Disabled, user: "bo@example.com", by: ResolvedEmailAsUsername, reads: 1, writes: 1},
		{name: "unverified alias: not_found confirmed by ListUsers", pool: alias, action: Disable, email: "cy@example.com",
			known: map[string][]string{"cy@example.com": {"cy"}}, users: map[string]bool{"cy": true},
			want: report.Disabled, user: "cy", by: ResolvedListUsers, lists: 1, reads: 2, writes: 1},
		{name: "email sign-in pool, really absent", pool: byEmail, action: Delete, email: "gone@example.com",
			want: report.NotFound, by: ResolvedListUsers, lists: 1, writes: 1},
		{name: "resumed delete whose user is gone was ours", pool: plain, action: Delete, email: "dee@example.com",
			prior: map[int]string{1: checkpoint.ReadNone}, want: report.Deleted, by: ResolvedListUsers, lists: 1, repeat: true},
		{name: "resumed row in an email pool is listed, not guessed", pool: byEmail, action: Delete, email: "eve@example.com",
			prior: map[int]string{1: checkpoint.ReadNone}, known: map[string][]string{"eve@example.com": {"0d4c-sub-eve"}},
			users: map[string]bool{"0d4c-sub-eve": true}, want: report.Deleted, user: "0d4c-sub-eve", by: ResolvedListUsers,
			lists: 1, writes: 1, repeat: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &users{
				get: func(_, user string) (cognito.User, error) {
					if !tt.users[user] {
						return cognito.User{}, absent
					}
					return cognito.User{Username: user, Enabled: true}, nil
				},
				mut: func(_, _, user string) error {
					if !tt.users[user] {
						return absent
					}
					return nil
				},
			}
			lk := &lookups{pools: map[string]cognito.Pool{emailPool: tt.pool}, byEmail: tt.known}
			j, sink, _ := newJob(tt.action, u)
			j.Lookups, j.Pools, j.Resolved, j.Prior = lk, NewPoolCache(), NewResolvedUsers(), tt.prior
			if _, err := j.Run(t.Context(), emailRows(tt.email)); err != nil {
				t.Fatal(err)
			}
			r := sink.recs[1]
			if r.Outcome != tt.want || r.Username != tt.user || r.ResolvedBy != tt.by || r.Input != tt.email || r.Repeated != tt.repeat {
				t.Fatalf("got %s %q by %q input %q repeated %v (%s)", r.Outcome, r.Username, r.ResolvedBy, r.Input, r.Repeated, r.Message)
			}
			writes := u.n("delete") + u.n("disable")
			if lk.lists != tt.lists || u.n("get") != tt.reads || writes != tt.writes {
				t.Errorf("%d ListUsers, %d reads, %d writes; want %d, %d, %d", lk.lists, u.n("get"), writes, tt.lists, tt.reads, tt.writes)
			}
			if r.Attempts != lk.lists+lk.describe+u.n("get")+writes {
				t.Errorf("attempts %d do not count the resolution's calls", r.Attempts)
			}
			if tt.want == report.Invalid && r.Message == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestJob_EmailRows_AmbiguousNamesHowMany(t *testing.T) {
	lk := &lookups{pools: map[string]cognito.Pool{emailPool: {ID: emailPool}},
		byEmail: map[string][]string{"twin@example.com": {"a", "b", "c"}}}
	j, sink, _ := newJob(Delete, &users{})
	j.Lookups, j.Pools = lk, NewPoolCache()
	if _, err := j.Run(t.Context(), emailRows("twin@example.com")); err != nil {
		t.Fatal(err)
	}
	if r := sink.recs[1]; r.Outcome != report.Invalid || r.Message == "" || !containsAll(r.Message, "3 users", "no user was guessed") {
		t.Fatalf("%s: %q", r.Outcome, r.Message)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// Two inputs naming one user are one user: the second is a duplicate, and
// the pool is described once for all rows.
func TestJob_EmailRows_DuplicatesOnTheResolvedUsername(t *testing.T) {
	lk := &lookups{pools: map[string]cognito.Pool{emailPool: {ID: emailPool}}, byEmail: map[string][]string{
		"Ann@Example.com": {"ann"}, "ann@example.com": {"ann"}, "bob@example.com": {"bob"},
	}}
	u := &users{mut: succeed}
	j, sink, _ := newJob(Delete, u)
	j.Concurrency = 4
	j.Lookups, j.Pools, j.Resolved = lk, NewPoolCache(), NewResolvedUsers()
	in := emailRows("Ann@Example.com", "bob@example.com", "ann@example.com", "bob@example.com", "not an email")
	j.Dups = input.NewTracker(dupSet(t, in.rows))
	if _, err := j.Run(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	counts := map[report.Outcome]int{}
	for _, r := range sink.recs {
		counts[r.Outcome]++
	}
	if counts[report.Deleted] != 2 || counts[report.Duplicate] != 2 || counts[report.Invalid] != 1 {
		t.Fatalf("outcomes %v, want 2 deleted, 2 duplicates, 1 invalid", counts)
	}
	if sink.recs[4].Outcome != report.Duplicate {
		t.Errorf("row 4 repeats row 2's email exactly: %s, want duplicate before any call", sink.recs[4].Outcome)
	}
	if u.n("delete") != 2 || lk.lists != 3 || lk.describe != 1 {
		t.Errorf("%d deletes, %d ListUsers, %d DescribeUserPool; want 2, 3, 1", u.n("delete"), lk.lists, lk.describe)
	}
}

// dupSet runs the input pre-pass over rows, as the CLI does.
func dupSet(t *testing.T, rows []input.Row) *input.DupSet {
	t.Helper()
	var b []byte
	b = append(b, "email\n"...)
	for _, r := range rows {
		b = append(b, r.Email+"\n"...)
	}
	sum, err := input.Scan(context.Background(), bytes.NewReader(b), input.CSV, func(r input.Row) string { return target.Key(r, emailPool) })
	if err != nil {
		t.Fatal(err)
	}
	return sum.Dups
}

// A resume seeds the users settled rows resolved to: a later row naming
// one of them is a duplicate, as it was in the interrupted run.
func TestJob_EmailRows_ResumeKeepsVerdicts(t *testing.T) {
	lk := &lookups{pools: map[string]cognito.Pool{emailPool: {ID: emailPool}}, byEmail: map[string][]string{
		"ann@example.com": {"ann"}, "ANN@example.com": {"ann"},
	}}
	u := &users{}
	j, sink, _ := newJob(Delete, u)
	j.Lookups, j.Pools, j.Resolved = lk, NewPoolCache(), NewResolvedUsers()
	j.Resolved.Claim(emailPool, "ann", 1) // row 1 settled in the first run
	j.Skip = func(row int) bool { return row == 1 }
	if _, err := j.Run(t.Context(), emailRows("ann@example.com", "ANN@example.com")); err != nil {
		t.Fatal(err)
	}
	if r := sink.recs[2]; r.Outcome != report.Duplicate || r.Message != "same user as row 1" {
		t.Fatalf("row 2: %s %q, want a duplicate of row 1", r.Outcome, r.Message)
	}
	if u.n("delete") != 0 {
		t.Fatalf("%d deletes", u.n("delete"))
	}
}

func TestJob_EmailRows_WithoutLookupsAreInvalid(t *testing.T) {
	j, sink, _ := newJob(Delete, &users{})
	if _, err := j.Run(t.Context(), emailRows("ann@example.com")); err != nil {
		t.Fatal(err)
	}
	if r := sink.recs[1]; r.Outcome != report.Invalid {
		t.Fatalf("%s", r.Outcome)
	}
}

func TestJob_EmailRows_ListUsersDeniedStopsTheRun(t *testing.T) {
	lk := &lookups{pools: map[string]cognito.Pool{emailPool: {ID: emailPool}}, listErr: apiErr("AccessDeniedException")}
	u := &users{}
	j, sink, _ := newJob(Delete, u)
	j.Lookups, j.Pools = lk, NewPoolCache()
	emails := make([]string, 20)
	for i := range emails {
		emails[i] = fmt.Sprintf("u%d@example.com", i)
	}
	_, err := j.Run(t.Context(), emailRows(emails...))
	var fe *retry.FatalError
	if !errors.As(err, &fe) || fe.Code != "AccessDeniedException" {
		t.Fatalf("err %v", err)
	}
	if u.n("delete") != 0 {
		t.Fatalf("%d deletes after ListUsers was denied", u.n("delete"))
	}
	for _, r := range sink.recs {
		if r.Outcome != report.NotAttempted {
			t.Fatalf("row %d: %s", r.Row, r.Outcome)
		}
	}
}

func TestPrepare_EmailRows(t *testing.T) {
	tests := []struct {
		name  string
		row   input.Row
		want  report.Outcome // "" : a task for a worker
		email string
	}{
		{name: "valid email", row: input.Row{N: 1, Email: "ann@example.com"}, email: "ann@example.com"},
		{name: "filter injection refused before any call", row: input.Row{N: 1, Email: `a" or email ^= "`}, want: report.Invalid},
		{name: "backslash refused", row: input.Row{N: 1, Email: `a\"@example.com`}, want: report.Invalid},
		{name: "no at", row: input.Row{N: 1, Email: "ann.example.com"}, want: report.Invalid},
		{name: "username wins over email", row: input.Row{N: 1, Username: "ann", Email: "x@example.com"}},
		{name: "sub wins over email", row: input.Row{N: 1, Sub: "6513270e-269e-4d37-b2a7-4de452e6b438", Email: "x@example.com"}},
		{name: "token row keeps its token", row: input.Row{N: 1, AccessToken: "tok", Email: "x@example.com"}, want: report.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, _, _ := newJob(Delete, &users{})
			tk, rec := j.prepare(tt.row)
			if tt.want != "" {
				if rec == nil || rec.Outcome != tt.want || rec.Message == "" {
					t.Fatalf("got %+v, want %s with a reason", rec, tt.want)
				}
				if tt.row.Email != "" && tt.row.AccessToken == "" && rec.Input != tt.row.Email {
					t.Errorf("input %q, want the email as given", rec.Input)
				}
				return
			}
			if rec != nil {
				t.Fatalf("decided without a call: %+v", rec)
			}
			if tk.Email != tt.email {
				t.Fatalf("task email %q, want %q", tk.Email, tt.email)
			}
		})
	}
}

func TestResolvedUsers_Claim(t *testing.T) {
	s := NewResolvedUsers()
	if _, dup := s.Claim("p_1", "ann", 3); dup {
		t.Fatal("first claim is a duplicate")
	}
	if _, dup := s.Claim("p_1", "ann", 3); dup {
		t.Fatal("the same row claiming again (a resume) is a duplicate")
	}
	if first, dup := s.Claim("p_1", "ann", 7); !dup || first != 3 {
		t.Fatalf("got %d %v, want a duplicate of row 3", first, dup)
	}
	if _, dup := s.Claim("p_2", "ann", 8); dup {
		t.Fatal("same name in another pool is another user")
	}
	if s.Len() != 2 {
		t.Fatalf("len %d", s.Len())
	}
}

// backups records Save calls and what had been deleted when each came.
type backups struct {
	mu    sync.Mutex
	saved []string
	u     *users
	err   error
}

func (b *backups) Save(row int, pool string, u cognito.User, groups []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if b.u.n("delete") >= len(b.saved)+1 {
		return errors.New("a delete was sent before its backup")
	}
	b.saved = append(b.saved, fmt.Sprintf("%d:%s:%s:%v", row, pool, u.Username, groups))
	return nil
}

func TestJob_BackupBeforeDelete(t *testing.T) {
	u := &users{get: enabledUser, mut: succeed}
	bk := &backups{u: u}
	lk := &lookups{groups: map[string][]string{"alice": {"admins", "staff"}}}
	j, sink, _ := newJob(Delete, u)
	j.Concurrency = 1
	j.Backup, j.Lookups = bk, lk
	if _, err := j.Run(t.Context(), rows("alice", "bob")); err != nil {
		t.Fatal(err)
	}
	if len(bk.saved) != 2 || bk.saved[0] != "1:us-east-1_P1:alice:[admins staff]" || bk.saved[1] != "2:us-east-1_P1:bob:[]" {
		t.Fatalf("saved %q", bk.saved)
	}
	if sink.recs[1].Outcome != report.Deleted || u.n("get") != 2 {
		t.Fatalf("%s, %d reads", sink.recs[1].Outcome, u.n("get"))
	}
}

func TestJob_BackupFailureStopsTheRun(t *testing.T) {
	u := &users{get: enabledUser}
	j, sink, _ := newJob(Delete, u)
	j.Backup = &backups{u: u, err: errors.New("disk full")}
	_, err := j.Run(t.Context(), rows("alice", "bob", "carol"))
	var fe *retry.FatalError
	if !errors.As(err, &fe) || fe.Code != "BackupWriteFailed" {
		t.Fatalf("err %v", err)
	}
	if u.n("delete") != 0 {
		t.Fatalf("%d deletes without a backup", u.n("delete"))
	}
	for _, r := range sink.recs {
		if r.Outcome != report.NotAttempted {
			t.Fatalf("row %d: %s", r.Row, r.Outcome)
		}
	}
}

func TestJob_BackupOfAUserAlreadyGone(t *testing.T) {
	u := &users{get: func(string, string) (cognito.User, error) { return cognito.User{}, apiErr("UserNotFoundException") }}
	tests := []struct {
		name  string
		prior map[int]string
		want  report.Outcome
	}{
		{name: "never there", want: report.NotFound},
		{name: "our delete before a kill", prior: map[int]string{1: checkpoint.ReadNone}, want: report.Deleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, sink, _ := newJob(Delete, u)
			j.Backup, j.Prior = &backups{u: u}, tt.prior
			if _, err := j.Run(t.Context(), rows("alice")); err != nil {
				t.Fatal(err)
			}
			if r := sink.recs[1]; r.Outcome != tt.want {
				t.Fatalf("%s, want %s", r.Outcome, tt.want)
			}
		})
	}
}
