package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// seedRestorable fills the pool with n users carrying custom attributes,
// some in groups, user0003 disabled, user0005 in a group "temp" that the
// test removes after the delete.
func seedRestorable(t *testing.T, srv *fakecognito.Server, n int) map[string]fakecognito.User {
	t.Helper()
	for i := 1; i <= n; i++ {
		u := fakecognito.User{
			Username: userName(i), Email: fmt.Sprintf("u%d@example.com", i),
			Attributes: map[string]string{"name": fmt.Sprintf("User %d", i), "custom:dept": fmt.Sprintf("d%d", i%3), "email_verified": "true"},
			Disabled:   i == 3,
		}
		switch {
		case i == 5:
			u.Groups = []string{"staff", "temp"}
		case i%4 == 0:
			u.Groups = []string{"admins", "staff"}
		case i%2 == 0:
			u.Groups = []string{"staff"}
		}
		if err := srv.AddUser(testPool, u); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]fakecognito.User{}
	for _, u := range srv.Users(testPool) {
		before[u.Username] = u
	}
	return before
}

// deletedWithBackup seeds n restorable users, deletes them all with
// --backup from a temporary directory it changes to, and returns the users
// before, that directory, the input and the backup.
func deletedWithBackup(t *testing.T, srv *fakecognito.Server, url string, n int) (before map[string]fakecognito.User, dir, in, bk string) {
	t.Helper()
	before = seedRestorable(t, srv, n)
	dir = t.TempDir()
	t.Chdir(dir)
	in = writeFile(t, dir, "leavers.csv", usersCSV(1, n))
	bk = filepath.Join(dir, "leavers.backup.ndjson")
	deleteWithBackup(t, url, in, bk)
	return before, dir, in, bk
}

// deleteWithBackup deletes every user of in, keeping the backup at bk.
func deleteWithBackup(t *testing.T, url, in, bk string) {
	t.Helper()
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--backup", bk, "--endpoint-url", url, "--rate", "5000", "--read-rate", "5000", "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("delete exit %d\n%s", res.code, res.stderr)
	}
}

func restoreArgs(url, bk string, more ...string) []string {
	return append([]string{"restore", "--from-backup", bk, "--endpoint-url", url, "--rate", "5000", "--read-rate", "5000",
		"--create-rate", "5000", "--progress", "off"}, more...)
}

// Delete 20 users with --backup, restore them all over the wire: every
// attribute but sub, the groups and the enabled state come back; the new
// sub is beside the old; a group gone is named; a user created again in
// between is never touched; and a second restore changes nothing.
func TestRun_Restore_DeleteThenRestore_OverTheWire(t *testing.T) {
	awsEnv(t)
	const n = 20
	srv, url := fake(t, fakecognito.Options{Seed: 3, ThrottleProb: 0.05}, 0)
	before, dir, _, bk := deletedWithBackup(t, srv, url, n)
	if got := srv.UserCount(testPool); got != 0 {
		t.Fatalf("%d users left after the delete", got)
	}
	if err := srv.DeleteGroup(testPool, "temp"); err != nil {
		t.Fatal(err)
	}
	// Someone made a user0020 again meanwhile: it is not ours to overwrite.
	if err := srv.AddUser(testPool, fakecognito.User{Username: userName(n), Attributes: map[string]string{"name": "someone else"}}); err != nil {
		t.Fatal(err)
	}
	other, _ := srv.User(testPool, userName(n))
	srv.Reset()

	res := cogsweep(t.Context(), t, restoreArgs(url, bk)...)
	if res.code != ExitOK {
		t.Fatalf("restore exit %d\n%s", res.code, res.stderr)
	}
	h, recs := readReport(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	if h.Action != "restore" || len(recs) != n {
		t.Fatalf("report of %s with %d rows, want restore with %d", h.Action, len(recs), n)
	}
	// Rows are numbered in the backup's order: the order the deletes ran.
	byName := map[string]report.Record{}
	for _, r := range recs {
		byName[r.Username] = r
	}
	for i := 1; i < n; i++ {
		name := userName(i)
		checkRestored(t, srv, before[name], byName[name])
	}
	if r := byName[userName(5)]; !slices.Equal(r.MissingGroups, []string{"temp"}) {
		t.Errorf("user0005 missing_groups %q, want [temp] (message %q)", r.MissingGroups, r.Message)
	}
	if r := byName[userName(n)]; r.Outcome != report.AlreadyExists {
		t.Errorf("%s: %s, want already_exists", userName(n), r.Outcome)
	}
	if u, _ := srv.User(testPool, userName(n)); u.Sub != other.Sub || u.Attributes["name"] != "someone else" || len(u.Groups) != 0 {
		t.Errorf("the other %s was touched: %+v", userName(n), u)
	}
	if got := srv.Executed("AdminCreateUser"); got != n-1 {
		t.Errorf("%d users created, want %d", got, n-1)
	}
	if got := srv.Invitations(); got != 0 {
		t.Errorf("%d invitations sent without --resend-invitation", got)
	}

	// Again, from scratch: every user is there, so nothing changes.
	after := srv.Users(testPool)
	srv.Reset()
	res = cogsweep(t.Context(), t, restoreArgs(url, bk, "--restart")...)
	if res.code != ExitOK {
		t.Fatalf("second restore exit %d\n%s", res.code, res.stderr)
	}
	_, recs = readReport(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	if c := countOutcomes(recs); c[report.AlreadyExists] != n {
		t.Errorf("second restore: %v, want %d already_exists", c, n)
	}
	for _, op := range []string{"AdminCreateUser", "AdminAddUserToGroup", "AdminDisableUser"} {
		if got := srv.Executed(op); got != 0 {
			t.Errorf("second restore: %d %s executed, want none", got, op)
		}
	}
	if got := srv.Users(testPool); !slices.EqualFunc(got, after, sameUser) {
		t.Errorf("second restore changed the pool")
	}
}

func sameUser(a, b fakecognito.User) bool {
	return a.Username == b.Username && a.Sub == b.Sub && a.Disabled == b.Disabled && a.Email == b.Email &&
		maps.Equal(a.Attributes, b.Attributes) && slices.Equal(a.Groups, b.Groups)
}

// checkRestored compares a restored user with the user before the delete:
// every attribute but sub, the groups the pool still has, the enabled state.
func checkRestored(t *testing.T, srv *fakecognito.Server, was fakecognito.User, rec report.Record) {
	t.Helper()
	now, ok := srv.User(testPool, was.Username)
	if !ok || rec.Outcome != report.Restored {
		t.Fatalf("%s: present %t, outcome %s (%s)", was.Username, ok, rec.Outcome, rec.Message)
	}
	if now.Email != was.Email || !maps.Equal(now.Attributes, was.Attributes) {
		t.Errorf("%s: attributes %v %q, want %v %q", was.Username, now.Attributes, now.Email, was.Attributes, was.Email)
	}
	wantGroups := slices.DeleteFunc(slices.Clone(was.Groups), func(g string) bool { return g == "temp" })
	if !slices.Equal(now.Groups, wantGroups) {
		t.Errorf("%s: groups %q, want %q", was.Username, now.Groups, wantGroups)
	}
	if now.Disabled != was.Disabled {
		t.Errorf("%s: disabled %t, want %t", was.Username, now.Disabled, was.Disabled)
	}
	if now.Sub == was.Sub || rec.OldSub != was.Sub || rec.NewSub != now.Sub {
		t.Errorf("%s: subs old %s new %s in the report; were %s, are %s", was.Username, rec.OldSub, rec.NewSub, was.Sub, now.Sub)
	}
}

// A backup that cannot be restored as asked is refused before any call
// (exit 2): another pool's without --to-pool, a corrupt line, a report
// given for a backup, users of two pools, a file that is not there.
func TestRun_Restore_RefusedBeforeAnyCall(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 0)
	seedRestorable(t, srv, 4)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 4))
	bk := filepath.Join(dir, "leavers.backup.ndjson")
	deleteWithBackup(t, url, in, bk)
	good := readFileString(t, bk)
	otherPool := strings.ReplaceAll(good, testPool, "us-east-1_OTHER0001")
	tests := []struct {
		name    string
		backup  string // the file's content; "" for no file
		args    []string
		wantErr string
	}{
		{name: "backup of another pool", backup: good, args: []string{"--user-pool-id", "us-east-1_OTHER0001"}, wantErr: "--to-pool"},
		{name: "to-pool and user-pool-id disagree", backup: good, args: []string{"--user-pool-id", testPool, "--to-pool", "us-east-1_OTHER0001"}, wantErr: "different pools"},
		{name: "corrupt line", backup: good + "{\"row\": 9, oops\n" + good, wantErr: "line 5"},
		{name: "a report, not a backup", backup: readFileString(t, filepath.Join(dir, "leavers.delete.report.ndjson")), wantErr: "not a cogsweep backup"},
		{name: "users of two pools", backup: good + otherPool, wantErr: "2 pools"},
		{name: "no such file", wantErr: "no such file"},
		{name: "stdin", backup: good, args: []string{"--from-backup", "-"}, wantErr: "local backup file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("refused%d.ndjson", i))
			if tt.backup != "" {
				writeFile(t, dir, filepath.Base(path), tt.backup)
			}
			srv.Reset()
			res := cogsweep(t.Context(), t, restoreArgs(url, path, tt.args...)...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, tt.wantErr) {
				t.Fatalf("exit %d, want %d with %q\n%s", res.code, ExitUsage, tt.wantErr, res.stderr)
			}
			if st := srv.Stats(); len(st.Calls) != 0 {
				t.Errorf("calls made before the refusal: %v", st.Calls)
			}
		})
	}
}

// --input picks users of the backup by username, sub or email; a row the
// backup does not hold is not_in_backup (exit 3). A dry run reads and
// plans; --to-pool restores into another pool; --resend-invitation lets
// Cognito invite the users.
func TestRun_Restore_InputDryRunToPool(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 0)
	before := seedRestorable(t, srv, 6)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 6))
	bk := filepath.Join(dir, "leavers.backup.ndjson")
	deleteWithBackup(t, url, in, bk)
	const newPool = "us-east-1_NEWPOOL01"
	if err := srv.CreatePool(newPool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	pick := writeFile(t, dir, "pick.ndjson", fmt.Sprintf("{\"username\":%q}\n{\"sub\":%q}\n{\"email\":%q}\n{\"username\":\"nobody\"}\n",
		userName(1), before[userName(2)].Sub, strings.ToUpper(before[userName(3)].Email)))
	tests := []struct {
		name        string
		args        []string
		report      string
		wantCode    int
		want        []report.Outcome // by input row
		pool        string           // where the users must be after
		invitations int
	}{
		{name: "dry run", args: []string{"--input", pick, "--dry-run"}, report: "pick.restore.plan.report.ndjson", wantCode: ExitRowProblems,
			want: []report.Outcome{"would_restore", "would_restore", "would_restore", report.NotInBackup}},
		{name: "into another pool, invited", args: []string{"--input", pick, "--to-pool", newPool, "--resend-invitation"}, report: "pick.restore.report.ndjson",
			wantCode: ExitRowProblems, want: []report.Outcome{report.Restored, report.Restored, report.Restored, report.NotInBackup}, pool: newPool, invitations: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Reset()
			res := cogsweep(t.Context(), t, restoreArgs(url, bk, tt.args...)...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			_, recs := readReport(t, filepath.Join(dir, tt.report))
			for i, want := range tt.want {
				if got := recs[i+1]; got.Outcome != want {
					t.Errorf("row %d: %s (%s), want %s", i+1, got.Outcome, got.Message, want)
				}
			}
			if r := recs[2]; r.Username != userName(2) || r.Input != before[userName(2)].Sub || r.ResolvedBy != "backup" {
				t.Errorf("row 2 names %q (input %q by %q), want %s found by its sub", r.Username, r.Input, r.ResolvedBy, userName(2))
			}
			if got := srv.Invitations(); got != tt.invitations {
				t.Errorf("%d invitations, want %d", got, tt.invitations)
			}
			if tt.pool == "" {
				if n := srv.UserCount(testPool) + srv.UserCount(newPool); n != 0 || srv.Executed("AdminCreateUser") != 0 {
					t.Errorf("a dry run created users")
				}
				return
			}
			for i := 1; i <= 3; i++ {
				if _, ok := srv.User(tt.pool, userName(i)); !ok {
					t.Errorf("%s not in %s", userName(i), tt.pool)
				}
			}
			if n := srv.UserCount(testPool); n != 0 {
				t.Errorf("%d users restored into the backup's own pool", n)
			}
		})
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A create whose answer is lost after it took effect (a reset after
// sending) is not repeated blindly: the retry meets the user, finds the
// backup's attributes and reports it restored, repeated; no row ends
// already_exists for a user this job made.
func TestRun_Restore_LostAnswerIsRepeated(t *testing.T) {
	awsEnv(t)
	const n = 20
	srv, url := fake(t, fakecognito.Options{Seed: 11}, 0)
	before, dir, _, bk := deletedWithBackup(t, srv, url, n)
	if err := srv.DeleteGroup(testPool, "temp"); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	srv.SetFaultOps([]string{"AdminCreateUser"})
	srv.SetResetAfterProb(0.5)

	res := cogsweep(t.Context(), t, restoreArgs(url, bk)...)
	if res.code != ExitOK {
		t.Fatalf("restore exit %d\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	repeated := 0
	for _, r := range recs {
		checkRestored(t, srv, before[r.Username], r)
		if r.Repeated {
			repeated++
		}
	}
	if repeated == 0 {
		t.Fatal("no create was answered by a reset: the test exercised nothing")
	}
	if got := srv.Executed("AdminCreateUser"); got != n {
		t.Errorf("%d creates took effect, want %d", got, n)
	}
	t.Logf("%d of %d rows restored with repeated:true", repeated, n)
}

// Restore is a run like the others: --max-users refuses before any call
// (exit 4), shards partition the backup's users and merge-reports joins
// their reports, and the header's audit says where the pool came from.
func TestRun_Restore_GuardsShardsAudit(t *testing.T) {
	awsEnv(t)
	const n = 12
	srv, url := fake(t, fakecognito.Options{}, 0)
	_, _, _, bk := deletedWithBackup(t, srv, url, n)
	srv.Reset()

	res := cogsweep(t.Context(), t, restoreArgs(url, bk, "--max-users", "5")...)
	if res.code != ExitAborted || !strings.Contains(res.stderr, "--max-users") || srv.Executed("AdminCreateUser") != 0 {
		t.Fatalf("--max-users 5 on %d users: exit %d, %d created\n%s", n, res.code, srv.Executed("AdminCreateUser"), res.stderr)
	}
	var reports []string
	for i := range 2 {
		res := cogsweep(t.Context(), t, restoreArgs(url, bk, "--shard", fmt.Sprintf("%d/2", i))...)
		if res.code != ExitOK {
			t.Fatalf("shard %d: exit %d\n%s", i, res.code, res.stderr)
		}
		reports = append(reports, fmt.Sprintf("leavers.backup.restore.shard-%d-of-2.report.ndjson", i))
	}
	if res := cogsweep(t.Context(), t, append([]string{"merge-reports", "--output", "merged.ndjson"}, reports...)...); res.code != ExitOK {
		t.Fatalf("merge-reports: exit %d\n%s", res.code, res.stderr)
	}
	h, recs := readReport(t, "merged.ndjson")
	if c := countOutcomes(recs); len(recs) != n || c[report.Restored] != n {
		t.Errorf("merged: %d rows, %v; want %d restored", len(recs), c, n)
	}
	if got := srv.Executed("AdminCreateUser"); got != n {
		t.Errorf("%d creates over both shards, want %d", got, n)
	}
	tl, err := timeline.Read(timeline.PathFor("leavers.backup.restore.shard-0-of-2.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if cats := tl.Runs[len(tl.Runs)-1].Categories; !slices.Contains(cats, "UserCreation") {
		t.Errorf("timeline categories %q: the creates are not metered", cats)
	}
	h0, _ := readReport(t, reports[0])
	opts, _ := h0.Audit["options"].(map[string]any)
	pool, _ := opts["user-pool-id"].(map[string]any)
	if h.Action != "restore" || pool["value"] != testPool || pool["source"] != "from-backup" {
		t.Errorf("audit: action %q, user-pool-id %v; want the backup's pool, from-backup", h.Action, pool)
	}
}

// In a pool whose users sign in with their email, Cognito names each user
// itself (a UUID): the create takes the email, and the state and groups go
// to the user Cognito made, whose name the report gives.
func TestRun_Restore_EmailUsernamePool(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 0)
	const emailPool = "us-east-1_EMAIL0001"
	if err := srv.CreatePool(emailPool, fakecognito.PoolOptions{UsernameAttributes: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	subs := []string{"aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"}
	for i, sub := range subs {
		u := fakecognito.User{Username: sub, Sub: sub, Email: fmt.Sprintf("e%d@example.com", i), Disabled: i == 1, Groups: []string{"staff"},
			Attributes: map[string]string{"custom:dept": "d"}}
		if err := srv.AddUser(emailPool, u); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", "username\n"+subs[0]+"\n"+subs[1]+"\n")
	bk := filepath.Join(dir, "leavers.backup.ndjson")
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", emailPool, "--confirm-pool-id", emailPool, "--max-fraction", "1",
		"--input", in, "--backup", bk, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitOK || srv.UserCount(emailPool) != 0 {
		t.Fatalf("delete exit %d, %d users left\n%s", res.code, srv.UserCount(emailPool), res.stderr)
	}
	res = cogsweep(t.Context(), t, restoreArgs(url, bk)...)
	if res.code != ExitOK {
		t.Fatalf("restore exit %d\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	for _, r := range recs {
		i := slices.Index(subs, r.Input)
		u, ok := srv.User(emailPool, r.Username)
		switch {
		case r.Outcome != report.Restored || i < 0 || r.ResolvedBy != "backup":
			t.Errorf("row %d: %s %q input %q (%s)", r.Row, r.Outcome, r.Username, r.Input, r.Message)
		case !ok || u.Email != fmt.Sprintf("e%d@example.com", i) || u.Disabled != (i == 1) || !slices.Equal(u.Groups, []string{"staff"}) || u.Attributes["custom:dept"] != "d":
			t.Errorf("row %d: user %q restored as %+v (present %t)", r.Row, r.Username, u, ok)
		case r.Username == r.Input || r.NewSub != u.Sub:
			t.Errorf("row %d: username %q new_sub %q; want Cognito's new name and sub %q", r.Row, r.Username, r.NewSub, u.Sub)
		}
	}
}

// A line of an older cogsweep, without the enabled state and the groups,
// comes back disabled and in no group, and its message says why; a torn
// last line (a kill while delete wrote it) is passed over with a warning.
func TestRun_Restore_OlderLineAndTornTail(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 0)
	dir := t.TempDir()
	t.Chdir(dir)
	older := fmt.Sprintf(`{"row":1,"user_pool_id":%q,"username":"olduser","attributes":{"sub":"bbbbbbbb-0000-4000-8000-000000000001","email":"old@example.com"}}`+"\n", testPool)
	torn := fmt.Sprintf(`{"row":2,"user_pool_id":%q,"username":"torn`, testPool)
	bk := writeFile(t, dir, "old.backup.ndjson", older+torn)
	res := cogsweep(t.Context(), t, restoreArgs(url, bk)...)
	if res.code != ExitOK || !strings.Contains(res.stderr, "torn line") {
		t.Fatalf("exit %d, want 0 with a warning about the torn line\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "old.backup.restore.report.ndjson"))
	r := recs[1]
	if len(recs) != 1 || r.Outcome != report.Restored || !strings.Contains(r.Message, "restored disabled") || !strings.Contains(r.Message, "none added") {
		t.Fatalf("%d rows; row 1: %s (%s)", len(recs), r.Outcome, r.Message)
	}
	if u, ok := srv.User(testPool, "olduser"); !ok || !u.Disabled || len(u.Groups) != 0 || u.Email != "old@example.com" {
		t.Errorf("olduser restored as %+v (present %t), want disabled, no group", u, ok)
	}
	if _, ok := srv.User(testPool, "torn"); ok {
		t.Error("the torn line's user was created")
	}
}
