package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// A pool first met in a row that does not exist fails that pool's rows
// (failed, ResourceNotFoundException) and the run goes on with the others
// (CONTRACT "Confirmation and guards"). Only the flag's pool aborts the run
// before any call (TestRun_MissingPoolAbortsBeforeAnyCall).
func TestRun_RowNamingMissingPoolFailsOnlyItsRows(t *testing.T) {
	const missing = "us-east-1_MISSING01"
	// Rows 1, 4 and 6 name the missing pool; the others the flag's
	// (explicitly or by leaving the column empty).
	var b strings.Builder
	b.WriteString("username,user_pool_id\n")
	missingRows := map[int]bool{1: true, 4: true, 6: true}
	for i := 1; i <= 8; i++ {
		p := ""
		switch {
		case missingRows[i]:
			p = missing
		case i%2 == 0:
			p = testPool
		}
		fmt.Fprintf(&b, "%s,%s\n", userName(i), p)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		done   report.Outcome
		called string // the call each row of the missing pool would make
	}{
		{name: "disable", args: []string{"disable"}, done: report.Disabled, called: "AdminGetUser"},
		{name: "delete", args: []string{"delete", "--confirm-pool-id", testPool, "--confirm-pool-id", missing, "--max-fraction", "1"},
			done: report.Deleted, called: "AdminDeleteUser"},
		{name: "delete with the max-fraction guard", args: []string{"delete", "--confirm-pool-id", testPool, "--confirm-pool-id", missing},
			done: report.Deleted, called: "AdminDeleteUser"},
		{name: "sign-out", args: []string{"sign-out"}, done: report.SignedOut, called: "AdminUserGlobalSignOut"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t)
			srv, url := fake(t, fakecognito.Options{}, 30)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", b.String())
			rep := filepath.Join(dir, "in.report.ndjson")
			args := append(tc.args, "--user-pool-id", testPool, "--input", in, "--report", rep,
				"--endpoint-url", url, "--progress", "off", "--concurrency", "1")
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitRowProblems {
				t.Fatalf("exit %d, want %d (rows of a missing pool failed, the others done)\n%s", res.code, ExitRowProblems, res.stderr)
			}
			_, recs := readReport(t, rep)
			if len(recs) != 8 {
				t.Fatalf("report has %d rows, want 8", len(recs))
			}
			for i := 1; i <= 8; i++ {
				r := recs[i]
				if missingRows[i] {
					if r.Outcome != report.Failed || r.ErrorCode != "ResourceNotFoundException" || r.UserPoolID != missing {
						t.Errorf("row %d: %s %s %s (%s), want failed ResourceNotFoundException in %s", i, r.Outcome, r.ErrorCode, r.UserPoolID, r.Message, missing)
					}
					continue
				}
				if r.Outcome != tc.done {
					t.Errorf("row %d: %s (%s), want %s", i, r.Outcome, r.Message, tc.done)
				}
			}
			// The missing pool is learnt once: its later rows make no call.
			done := 8 - len(missingRows)
			if n := srv.Calls(tc.called); n > done+1 {
				t.Errorf("%d %s calls, want at most %d (one for the missing pool)", n, tc.called, done+1)
			}
		})
	}
}

// Email rows describe their pool first (DescribeUserPool): a missing one
// fails them the same way.
func TestRun_EmailRowNamingMissingPoolFailsOnlyItsRows(t *testing.T) {
	const missing = "us-east-1_MISSING02"
	awsEnv(t)
	srv, url := identityFake(t, fakecognito.Options{}, 4)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", "email,user_pool_id\n"+
		emailOf(1)+","+missing+"\n"+emailOf(2)+",\n"+emailOf(3)+","+missing+"\n"+emailOf(4)+",\n")
	rep := filepath.Join(dir, "in.report.ndjson")
	res := cogsweep(t.Context(), t, "sign-out", "--user-pool-id", testPool, "--input", in, "--report", rep,
		"--endpoint-url", url, "--progress", "off", "--concurrency", "1")
	if res.code != ExitRowProblems {
		t.Fatalf("exit %d, want %d\n%s", res.code, ExitRowProblems, res.stderr)
	}
	_, recs := readReport(t, rep)
	for i, want := range map[int]report.Outcome{1: report.Failed, 2: report.SignedOut, 3: report.Failed, 4: report.SignedOut} {
		r := recs[i]
		if r.Outcome != want || (want == report.Failed && r.ErrorCode != "ResourceNotFoundException") {
			t.Errorf("row %d: %s %s (%s), want %s", i, r.Outcome, r.ErrorCode, r.Message, want)
		}
	}
	if n := srv.Calls("AdminUserGlobalSignOut"); n != 2 {
		t.Errorf("%d sign-outs, want 2", n)
	}
}
