package main_test

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// TestE2E_RestoreCrashLoop deletes users with --backup, then kills the
// restore with SIGKILL at random moments and resumes it each time: in the
// end every row has one outcome, restored, every user is back once (no
// create took effect twice, none of ours ended already_exists), and the
// creates the server processed again are bounded by what was in flight at
// each kill.
func TestE2E_RestoreCrashLoop(t *testing.T) {
	const (
		n           = 1500
		concurrency = 8
		kills       = 6
	)
	srv := fakecognito.New(fakecognito.Options{Seed: 9, ThrottleProb: 0.05})
	if err := srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		u := fakecognito.User{Username: name(i), Email: fmt.Sprintf("p%d@example.com", i), Disabled: i%10 == 0,
			Attributes: map[string]string{"custom:dept": fmt.Sprint(i % 7)}}
		if i%3 == 0 {
			u.Groups = []string{"staff"}
		}
		if err := srv.AddUser(pool, u); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	url := hs.URL
	dir := t.TempDir()
	writeUsers(t, dir, n)
	del := command(t, dir, url, "delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "users.csv", "--backup", "users.backup.ndjson", "--rate", "5000", "--read-rate", "5000", "--concurrency", "16")
	if o, err := del.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("delete exit %d\n%s", exitCode(err), o)
	}
	srv.Reset()
	srv.SetFaultOps([]string{"AdminCreateUser", "AdminAddUserToGroup", "AdminDisableUser"})

	args := []string{"restore", "--from-backup", "users.backup.ndjson", "--rate", "3000", "--create-rate", "3000", "--read-rate", "3000",
		"--concurrency", fmt.Sprint(concurrency)}
	rng := rand.New(rand.NewPCG(3, 4))
	killed := 0
	for killed < kills && srv.UserCount(pool) < n {
		before := srv.Processed("AdminCreateUser")
		target := before + 30 + rng.IntN(200)
		if runUntil(t, command(t, dir, url, args...), func() bool { return srv.Processed("AdminCreateUser") >= target }) {
			killed++
		}
	}
	cmd := command(t, dir, url, args...)
	if o, err := cmd.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("final run exit %d\n%s", exitCode(err), o)
	}
	recs := lines(t, filepath.Join(dir, "users.backup.restore.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("report has %d rows, want %d", len(recs), n)
	}
	repeatedRows := 0
	for i := 1; i <= n; i++ {
		r := recs[i]
		if r.Outcome != report.Restored {
			t.Fatalf("row %d (%s): %s (%s)", i, r.Username, r.Outcome, r.Message)
		}
		if r.Repeated {
			repeatedRows++
		}
	}
	for i := 1; i <= n; i++ {
		u, ok := srv.User(pool, name(i))
		if !ok || u.Disabled != (i%10 == 0) || u.Attributes["custom:dept"] != fmt.Sprint(i%7) || (i%3 == 0) != (len(u.Groups) == 1) {
			t.Fatalf("%s after the restore: present %t, %+v", name(i), ok, u)
		}
	}
	if got := srv.Executed("AdminCreateUser"); got != n {
		t.Fatalf("%d creates took effect, want %d: a user was created twice or not at all", got, n)
	}
	processed := srv.Processed("AdminCreateUser")
	t.Logf("restore crash loop: %d kills, %d rows, %d creates processed (%d repeated, bound %d), %d rows repeated:true, %d throttled",
		killed, n, processed, processed-n, killed*concurrency, repeatedRows, srv.Throttled())
	if killed < kills {
		t.Fatalf("only %d kills happened before the run finished", killed)
	}
	if processed-n > killed*concurrency {
		t.Fatalf("%d repeated creates, more than kills x concurrency = %d", processed-n, killed*concurrency)
	}
}
