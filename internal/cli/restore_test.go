package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
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
	before := seedRestorable(t, srv, n)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, n))
	bk := filepath.Join(dir, "leavers.backup.ndjson")
	deleteWithBackup(t, url, in, bk)
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
