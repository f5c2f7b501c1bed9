package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/run"
)

// fast are the flags that let a test run at the fake's speed.
var fast = []string{"--rate", "5000", "--read-rate", "5000", "--list-rate", "5000", "--concurrency", "4", "--progress", "off"}

// sweep runs cogsweep in-process with the fake's clock, so that ages
// (--only-disabled-for, --created-before) follow srv.Advance.
func sweep(ctx context.Context, t *testing.T, srv *fakecognito.Server, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	no := false
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no}
	if srv != nil {
		env.Now = srv.Now
	}
	flags := fast
	if args[0] == "self-delete" {
		// No --list-rate: self-delete lists nothing.
		flags = append(append([]string(nil), fast[:4]...), fast[6:]...)
	}
	// The command, then fast, then the test's flags: a later flag wins.
	all := append(append([]string{args[0]}, flags...), args[1:]...)
	code := Main(ctx, all, env)
	return result{code, out.String(), errb.String()}
}

// mutatingOps are every call that changes a user.
var mutatingOps = []string{"AdminDisableUser", "AdminEnableUser", "AdminDeleteUser", "AdminUserGlobalSignOut",
	"AdminDeleteUserAttributes", "DeleteUser", "DeleteUserAttributes"}

func mutatingCalls(srv *fakecognito.Server) int {
	n := 0
	for _, op := range mutatingOps {
		n += srv.Calls(op)
	}
	return n
}

func checkpointHeader(t *testing.T, path string) checkpoint.Header {
	t.Helper()
	st, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.HasHeader {
		t.Fatalf("checkpoint %s has no header", path)
	}
	return st.Header
}

func storedGuards(t *testing.T, path string) run.GuardVerdict {
	t.Helper()
	var v run.GuardVerdict
	h := checkpointHeader(t, path)
	if err := json.Unmarshal(h.Guards, &v); err != nil {
		t.Fatalf("checkpoint guards %q: %v", h.Guards, err)
	}
	return v
}

// TestSafety_GuardsRefuseBeforeAnyMutatingCall: each guard refuses with
// exit 4, names itself and how to override it, makes no mutating call, and
// leaves a report with every row not_attempted.
func TestSafety_GuardsRefuseBeforeAnyMutatingCall(t *testing.T) {
	awsEnv(t)
	tests := []struct {
		name     string
		action   string
		input    string
		args     []string
		guard    string
		override string
	}{
		{"confirmation", "delete", usersCSV(1, 5), []string{"--max-fraction", "1"}, "confirmation", "--confirm-pool-id " + testPool},
		{"max-users", "disable", usersCSV(1, 11), []string{"--max-users", "10"}, "--max-users", "raise --max-users to at least 11"},
		{"max-users on a token-only action", "self-delete", "access_token\ntok-a\ntok-b\ntok-c\n", []string{"--max-users", "2"}, "--max-users", "raise --max-users"},
		{"max-fraction default for delete", "delete", usersCSV(1, 21), []string{"--confirm-pool-id", testPool}, "--max-fraction", "--max-fraction 0.21"},
		{"max-fraction given", "delete", usersCSV(1, 6), []string{"--confirm-pool-id", testPool, "--max-fraction", "0.05"}, "--max-fraction", "--max-fraction 0.06"},
		{"protect-group that does not exist", "delete", usersCSV(1, 5), []string{"--confirm-pool-id", testPool, "--max-fraction", "1", "--protect-group", "admnis"}, "--protect-group", `group "admnis" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := fake(t, fakecognito.Options{}, 100)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", tt.input)
			args := append([]string{tt.action, "--user-pool-id", testPool, "--input", in, "--endpoint-url", url}, tt.args...)
			res := sweep(t.Context(), t, nil, args...)
			if res.code != ExitAborted {
				t.Fatalf("exit %d, want 4\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "refused by "+tt.guard) || !strings.Contains(res.stderr, tt.override) {
				t.Errorf("message should name %s and %q:\n%s", tt.guard, tt.override, res.stderr)
			}
			if n := mutatingCalls(srv); n != 0 {
				t.Fatalf("%d mutating calls before the guard refused, want 0", n)
			}
			// The pre-flight may read one user to check the credentials
			// may (identity.go); the rows are never read.
			if n := srv.Calls("AdminGetUser"); n > 1 {
				t.Errorf("%d AdminGetUser calls; a refused run reads no row's user", n)
			}
			_, recs := readReport(t, filepath.Join(dir, "in."+tt.action+".report.ndjson"))
			rows := strings.Count(tt.input, "\n") - 1
			if c := countOutcomes(recs); len(recs) != rows || c[report.NotAttempted] != rows {
				t.Fatalf("report %v, want %d not_attempted", c, rows)
			}
			for _, r := range recs {
				if !strings.Contains(r.Message, tt.guard) {
					t.Fatalf("row %d message %q does not name the guard", r.Row, r.Message)
				}
			}
		})
	}
}

// TestSafety_RefusedRunStaysRefused: a refusal is stored; the same command
// is refused again without judging anew, a changed command needs --restart
// (a day that aborted needs a person), and --restart archives and runs.
func TestSafety_RefusedRunStaysRefused(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 20)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 12))
	base := []string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url}

	res := sweep(t.Context(), t, nil, append(base, "--max-users", "10")...)
	if res.code != ExitAborted {
		t.Fatalf("first run: exit %d\n%s", res.code, res.stderr)
	}
	cp := filepath.Join(dir, "in.disable.checkpoint")
	if v := storedGuards(t, cp); v.Refused != "--max-users" || v.Rows != 12 {
		t.Fatalf("stored verdict %+v", v)
	}
	res = sweep(t.Context(), t, nil, append(base, "--max-users", "10")...)
	if res.code != ExitAborted || !strings.Contains(res.stderr, "--max-users") {
		t.Fatalf("same command again: exit %d, want 4 again\n%s", res.code, res.stderr)
	}
	res = sweep(t.Context(), t, nil, append(base, "--max-users", "20")...)
	if res.code != ExitUsage || !strings.Contains(res.stderr, "--restart") {
		t.Fatalf("changed command on a refused run: exit %d, want 2 naming --restart\n%s", res.code, res.stderr)
	}
	if n := mutatingCalls(srv); n != 0 {
		t.Fatalf("%d mutating calls", n)
	}
	res = sweep(t.Context(), t, nil, append(base, "--max-users", "20", "--restart")...)
	if res.code != ExitOK {
		t.Fatalf("--restart: exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("AdminDisableUser"); n != 12 {
		t.Fatalf("%d AdminDisableUser calls, want 12", n)
	}
	archived, _ := filepath.Glob(filepath.Join(dir, "in.disable.checkpoint.*"))
	if len(archived) == 0 {
		t.Error("--restart archived nothing")
	}
}

// TestSafety_GuardsJudgedAfterAnEarlierRefusal: a start refused before the
// guards were judged (no confirmation) stores no verdict; the next start
// judges them and stores its verdict in the checkpoint.
func TestSafety_GuardsJudgedAfterAnEarlierRefusal(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 100)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 10))
	args := []string{"delete", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url}
	if res := sweep(t.Context(), t, nil, args...); res.code != ExitAborted || !strings.Contains(res.stderr, "--confirm-pool-id") {
		t.Fatalf("exit %d, want 4 asking for --confirm-pool-id\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("DescribeUserPool") + srv.Calls("AdminGetUser") + mutatingCalls(srv); n != 0 {
		t.Fatalf("%d calls before the confirmation refusal, want none", n)
	}
	cp := filepath.Join(dir, "in.delete.checkpoint")
	if h := checkpointHeader(t, cp); len(h.Guards) != 0 {
		t.Fatalf("guards judged before confirmation: %s", h.Guards)
	}
	if res := sweep(t.Context(), t, nil, append(args, "--confirm-pool-id", testPool)...); res.code != ExitOK {
		t.Fatalf("confirmed: exit %d\n%s", res.code, res.stderr)
	}
	if v := storedGuards(t, cp); v.Refused != "" || v.Rows != 10 || len(v.Pools) != 1 || v.Pools[0].Users != 100 {
		t.Fatalf("stored verdict %+v", v)
	}
	if n := srv.Calls("AdminDeleteUser"); n != 10 {
		t.Fatalf("%d deletes, want 10", n)
	}
}

// TestSafety_MaxFractionNotRejudgedOnResume: a delete of 19 of 100 users
// passes --max-fraction 0.2 at its first start; interrupted after its
// deletes shrank the pool (19/90 > 0.2), the resume reuses the stored
// verdict and finishes. A fresh judgement (a dry run) would now refuse.
func TestSafety_MaxFractionNotRejudgedOnResume(t *testing.T) {
	awsEnv(t)
	const n = 19
	srv, url := fake(t, fakecognito.Options{}, 100)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, n))
	args := []string{"delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--input", in, "--endpoint-url", url}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		// Slow enough to stop midway.
		done <- sweep(ctx, t, nil, append(args, "--rate", "20", "--concurrency", "1")...)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Executed("AdminDeleteUser") < 10 {
		if time.Now().After(deadline) {
			t.Fatal("no progress")
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
	cancel()
	if res := <-done; res.code != ExitInterrupted {
		t.Fatalf("exit %d, want 75\n%s", res.code, res.stderr)
	}
	left := srv.UserCount(testPool)
	if left >= 100-9 || left <= 100-n {
		t.Fatalf("%d users left: the interrupt should fall between 10 and %d deletes", left, n-1)
	}
	if v := storedGuards(t, filepath.Join(dir, "in.delete.checkpoint")); v.Refused != "" || len(v.Pools) != 1 || v.Pools[0].Users != 100 || v.Pools[0].Rows != n {
		t.Fatalf("stored verdict %+v", v)
	}

	res := sweep(t.Context(), t, nil, args...)
	if res.code != ExitOK {
		t.Fatalf("resume: exit %d, want 0 (the stored verdict holds)\n%s", res.code, res.stderr)
	}
	if got := srv.UserCount(testPool); got != 100-n {
		t.Fatalf("%d users left, want %d", got, 100-n)
	}

	// Judged anew against the shrunk pool (19 of 81), the plan is refused.
	res = sweep(t.Context(), t, nil, "delete", "--dry-run", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url)
	if res.code != ExitAborted || !strings.Contains(res.stderr, "--max-fraction") {
		t.Fatalf("fresh judgement: exit %d, want 4 by --max-fraction\n%s", res.code, res.stderr)
	}
}

// TestSafety_DryRunPredictsRefusalAndWritesPlan: a dry run needs no
// confirmation and makes no mutating call. One that a guard refuses says
// so first and reads no user (the guards are judged from the row counts
// and the pool's size): every row of its plan is not_attempted, as in the
// real run, and it exits 4 naming the guard. Within the guards it writes
// the whole plan into its own files, read like a plan.
func TestSafety_DryRunPredictsRefusalAndWritesPlan(t *testing.T) {
	tests := []struct {
		name   string
		rows   int
		extra  []string
		guard  string // named with its override
		within []string
	}{
		{name: "max-fraction", rows: 28, guard: "--max-fraction 0.3", within: []string{"--max-fraction", "0.5"}},
		{name: "max-users on 3,000 rows", rows: 2998, extra: []string{"--max-users", "1000", "--max-fraction", "1"},
			guard: "raise --max-users to at least 3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			srv, url := fake(t, fakecognito.Options{}, 100)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", usersCSV(1, tt.rows)+"ghost1\nghost2\n")
			protect := writeFile(t, dir, "protect.txt", "# service accounts\nuser0003\n")
			args := append([]string{"delete", "--dry-run", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
				"--protect-file", protect}, tt.extra...)

			res := sweep(t.Context(), t, nil, args...)
			if res.code != ExitAborted {
				t.Fatalf("exit %d, want 4\n%s", res.code, res.stderr)
			}
			if !strings.HasPrefix(res.stdout, "dry run: the real run would be refused by") || !strings.Contains(res.stdout, tt.guard) {
				t.Errorf("stdout should start with the verdict and name %q:\n%s", tt.guard, res.stdout)
			}
			if n := srv.Calls("AdminGetUser") + mutatingCalls(srv); n != 0 {
				t.Fatalf("%d reads and writes in a dry run a guard refuses, want none", n)
			}
			_, recs := readReport(t, filepath.Join(dir, "in.delete.plan.report.ndjson"))
			if c := countOutcomes(recs); len(recs) != tt.rows+2 || c[report.NotAttempted] != tt.rows+2 {
				t.Fatalf("plan of a refused run: %v, want every row not_attempted", c)
			}
			if _, err := os.Stat(filepath.Join(dir, "in.delete.report.ndjson")); !os.IsNotExist(err) {
				t.Errorf("the dry run touched the real run's report: %v", err)
			}
			// The same dry run again: finished, nothing to call, the same forecast.
			res = sweep(t.Context(), t, nil, args...)
			if res.code != ExitAborted || srv.Calls("AdminGetUser") != 0 {
				t.Fatalf("again: exit %d, %d reads", res.code, srv.Calls("AdminGetUser"))
			}
			if tt.within == nil {
				return
			}
			// Within the guard, the whole plan, and exit 0.
			res = sweep(t.Context(), t, nil, append(args, tt.within...)...)
			if res.code != ExitOK || !strings.Contains(res.stdout, "will delete 27 users; 2 not found; 1 protected") {
				t.Fatalf("within the guard: exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
			_, recs = readReport(t, filepath.Join(dir, "in.delete.plan.report.ndjson"))
			if c := countOutcomes(recs); len(recs) != 30 || c["would_delete"] != 27 || c[report.NotFound] != 2 || c[report.Protected] != 1 {
				t.Fatalf("plan outcomes %v", c)
			}
			if n := mutatingCalls(srv); n != 0 {
				t.Fatalf("%d mutating calls in a dry run", n)
			}
		})
	}
}

// TestSafety_ProtectGroup: members of --protect-group are listed with one
// paginated ListUsersInGroup per group and pool, never per user; their rows
// end protected with no call.
func TestSafety_ProtectGroup(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 0)
	for i := 1; i <= 130; i++ {
		if err := srv.AddUser(testPool, fakecognito.User{Username: fmt.Sprintf("admin%04d", i), Groups: []string{"admins"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 20; i++ {
		srv.AddUser(testPool, fakecognito.User{Username: userName(i), Groups: []string{"staff"}})
	}
	dir := t.TempDir()
	t.Chdir(dir)
	// admin0125 is on the third page of the group; ADMIN0002 differs in
	// case; the last row names admin0003 by its sub.
	a3, _ := srv.User(testPool, "admin0003")
	in := writeFile(t, dir, "in.csv", "username,sub\nuser0001,\nadmin0001,\nuser0002,\nadmin0125,\nADMIN0002,\n,"+a3.Sub+"\n")
	res := sweep(t.Context(), t, nil, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
		"--protect-group", "admins", "--protect-group", "break-glass-empty,admins")
	if res.code != ExitAborted || !strings.Contains(res.stderr, "break-glass-empty") {
		t.Fatalf("a missing group: exit %d, want 4 naming it\n%s", res.code, res.stderr)
	}
	if n := mutatingCalls(srv); n != 0 {
		t.Fatalf("%d mutating calls", n)
	}

	srv.Reset()
	res = sweep(t.Context(), t, nil, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
		"--protect-group", "admins", "--restart")
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("ListUsersInGroup"); n != 3 {
		t.Errorf("%d ListUsersInGroup calls for 130 members, want 3 pages", n)
	}
	_, recs := readReport(t, filepath.Join(dir, "in.disable.report.ndjson"))
	want := map[int]report.Outcome{1: report.Disabled, 2: report.Protected, 3: report.Disabled, 4: report.Protected, 5: report.Protected, 6: report.Protected}
	for row, o := range want {
		if recs[row].Outcome != o {
			t.Errorf("row %d (%s): %s, want %s", row, recs[row].Username, recs[row].Outcome, o)
		}
	}
	// Protected rows make no call; the pre-flight may read one user.
	if n, reads := srv.Calls("AdminDisableUser"), srv.Calls("AdminGetUser"); n != 2 || reads < 2 || reads > 3 {
		t.Errorf("%d AdminDisableUser and %d AdminGetUser calls, want 2 and 2 (+1 pre-flight read)", n, reads)
	}
	for _, name := range []string{"admin0001", "admin0125", "admin0002", "admin0003"} {
		if u, _ := srv.User(testPool, name); u.Disabled {
			t.Errorf("protected %s was disabled", name)
		}
	}
}

// TestSafety_ProtectFile: usernames one per line, or a CSV/NDJSON with a
// username column (a user_pool_id column scopes a name to its pool); the
// file's content is in the fingerprint.
func TestSafety_ProtectFile(t *testing.T) {
	awsEnv(t)
	tests := []struct {
		name, file, content string
		protected           []int // rows of the input protected
	}{
		{"lines", "protect.txt", "\ufeffuser0002\n\n# break-glass\n  user0004  \n", []int{2, 4}},
		{"csv", "protect.csv", "email,Username\na@x,user0001\nb@x,USER0003\n", []int{1, 3}},
		{"ndjson, fields differ by line", "protect.ndjson", `{"sub":"no-such-sub"}` + "\n" + `{"username":"user0003"}` + "\n", []int{3}},
		{"ndjson with pools", "protect.ndjson", `{"username":"user0001","user_pool_id":"us-east-1_OTHER0001"}` + "\n" + `{"username":"user0002","user_pool_id":"` + testPool + `"}` + "\n", []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := fake(t, fakecognito.Options{}, 5)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", usersCSV(1, 5))
			pf := writeFile(t, dir, tt.file, tt.content)
			res := sweep(t.Context(), t, nil, "sign-out", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--protect-file", pf)
			if res.code != ExitOK {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			_, recs := readReport(t, filepath.Join(dir, "in.sign-out.report.ndjson"))
			prot := map[int]bool{}
			for _, r := range tt.protected {
				prot[r] = true
			}
			for row := 1; row <= 5; row++ {
				want := report.SignedOut
				if prot[row] {
					want = report.Protected
				}
				if recs[row].Outcome != want {
					t.Errorf("row %d: %s, want %s", row, recs[row].Outcome, want)
				}
			}
			if n := srv.Calls("AdminUserGlobalSignOut"); n != 5-len(tt.protected) {
				t.Errorf("%d sign-outs, want %d", n, 5-len(tt.protected))
			}
		})
	}

	t.Run("content is in the fingerprint", func(t *testing.T) {
		srv, url := fake(t, fakecognito.Options{}, 3)
		dir := t.TempDir()
		t.Chdir(dir)
		in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
		pf := writeFile(t, dir, "protect.txt", "user0002\n")
		args := []string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--protect-file", pf}
		if res := sweep(t.Context(), t, nil, args...); res.code != ExitOK {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		writeFile(t, dir, "protect.txt", "user0003\n")
		if res := sweep(t.Context(), t, nil, args...); res.code != ExitOK {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		if u, _ := srv.User(testPool, "user0002"); !u.Disabled {
			t.Error("user0002, no longer protected, was not disabled: the changed protect file did not start a new run")
		}
	})

	t.Run("unusable files refuse the run", func(t *testing.T) {
		srv, url := fake(t, fakecognito.Options{}, 3)
		dir := t.TempDir()
		t.Chdir(dir)
		in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
		for name, content := range map[string]string{
			"empty.txt":        "# nobody\n",
			"badname.txt":      "user0001\nhas space\n",
			"nocolumn.csv":     "email\na@x\n",
			"noname.csv":       "email,username\na@x,user0001\nb@x,\n",
			"noname.ndjson":    `{"username":"user0001"}` + "\n" + `{"email":"b@x"}` + "\n",
			"emailonly.ndjson": `{"email":"b@x"}` + "\n" + `{"username":"user0001"}` + "\n",
			"missing.txt":      "",
		} {
			pf := filepath.Join(dir, name)
			if name != "missing.txt" {
				writeFile(t, dir, name, content)
			}
			res := sweep(t.Context(), t, nil, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--protect-file", pf)
			if res.code != ExitUsage || !strings.Contains(res.stderr, "--protect-file") {
				t.Errorf("%s: exit %d, want 2 naming --protect-file\n%s", name, res.code, res.stderr)
			}
		}
		if n := srv.Calls("AdminGetUser") + mutatingCalls(srv); n != 0 {
			t.Errorf("%d calls", n)
		}
	})
}

// TestSafety_OnlyDisabledFor: two-phase offboarding on the fake's clock.
// Users still disabled long enough are deleted; one re-enabled since is
// skipped_not_disabled, one disabled too recently skipped_too_recent. Those
// rows are not settled: the same command later tries only them again.
func TestSafety_OnlyDisabledFor(t *testing.T) {
	awsEnv(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, url := fake(t, fakecognito.Options{Now: func() time.Time { return base }}, 0)
	day := 24 * time.Hour
	seed := []fakecognito.User{
		{Username: "old", Disabled: true, Modified: base.Add(-40 * day)},
		{Username: "recent", Disabled: true, Modified: base.Add(-10 * day)},
		{Username: "reenabled", Disabled: false, Modified: base.Add(-40 * day)},
	}
	for _, u := range seed {
		if err := srv.AddUser(testPool, u); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 40; i++ {
		srv.AddUser(testPool, fakecognito.User{Username: userName(i)})
	}
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", "username\nold\nrecent\nreenabled\nghost\n")
	args := []string{"delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--input", in, "--endpoint-url", url, "--only-disabled-for", "30d"}

	res := sweep(t.Context(), t, srv, args...)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	rp := filepath.Join(dir, "leavers.delete.report.ndjson")
	_, recs := readReport(t, rp)
	want := []report.Outcome{report.Deleted, report.SkippedTooRecent, report.SkippedNotDisabled, report.NotFound}
	for i, o := range want {
		if recs[i+1].Outcome != o {
			t.Errorf("row %d (%s): %s, want %s", i+1, recs[i+1].Username, recs[i+1].Outcome, o)
		}
	}
	if n := srv.Calls("AdminDeleteUser"); n != 1 {
		t.Fatalf("%d deletes, want 1", n)
	}

	// 25 days later the same command reads only the two skipped rows.
	srv.Advance(25 * day)
	reads := srv.Calls("AdminGetUser")
	res = sweep(t.Context(), t, srv, args...)
	if res.code != ExitOK {
		t.Fatalf("later: exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("AdminGetUser") - reads; n < 2 || n > 3 {
		t.Errorf("%d reads on the later run, want 2 (only the skipped rows; +1 pre-flight read)", n)
	}
	_, recs = readReport(t, rp)
	if recs[2].Outcome != report.Deleted || recs[3].Outcome != report.SkippedNotDisabled || len(recs) != 4 {
		t.Fatalf("later: row 2 %s, row 3 %s, %d lines", recs[2].Outcome, recs[3].Outcome, len(recs))
	}
	if _, ok := srv.User(testPool, "reenabled"); !ok {
		t.Fatal("a re-enabled user was deleted")
	}

	// Go durations work too, and the option is in the fingerprint: a new
	// value is a new run (the finished one is archived).
	args[len(args)-1] = "2h"
	if res = sweep(t.Context(), t, srv, args...); res.code != ExitOK {
		t.Fatalf("2h: exit %d\n%s", res.code, res.stderr)
	}
	if archived, _ := filepath.Glob(rp + ".*"); len(archived) != 1 {
		t.Errorf("archived reports %v, want 1", archived)
	}
}

// TestSafety_SelectUnconfirmedForSevenDays: the scheduled purge is one
// command. The query pages at --list-rate, its manifest is written beside
// the report, the run proceeds from it; a later run after a finished one
// queries anew.
func TestSafety_SelectUnconfirmedForSevenDays(t *testing.T) {
	awsEnv(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, url := fake(t, fakecognito.Options{Now: func() time.Time { return base }}, 0)
	day := 24 * time.Hour
	add := func(name, status string, created time.Time) {
		if err := srv.AddUser(testPool, fakecognito.User{Username: name, Status: status, Created: created}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 130; i++ {
		add(fmt.Sprintf("stale%03d", i), "UNCONFIRMED", base.Add(-10*day))
	}
	for i := 1; i <= 5; i++ {
		add(fmt.Sprintf("fresh%03d", i), "UNCONFIRMED", base.Add(-2*day))
	}
	for i := 1; i <= 700; i++ {
		add(userName(i), "CONFIRMED", base.Add(-100*day))
	}
	dir := t.TempDir()
	t.Chdir(dir)
	args := []string{"delete", "--select", `cognito:user_status = "UNCONFIRMED"`, "--created-before", "7d",
		"--user-pool-id", testPool, "--confirm-pool-id", testPool, "--endpoint-url", url}

	res := sweep(t.Context(), t, srv, args...)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("ListUsers"); n != 3 {
		t.Errorf("%d ListUsers calls for 135 matches, want 3 pages", n)
	}
	manifests, _ := filepath.Glob(filepath.Join(dir, "select-*.delete.manifest.ndjson"))
	if len(manifests) != 1 {
		t.Fatalf("manifests %v", manifests)
	}
	lines := manifestUsers(t, manifests[0])
	if len(lines) != 130 || !strings.HasPrefix(lines[0], "stale") {
		t.Fatalf("manifest has %d users (%v...), want the 130 stale ones", len(lines), lines[:min(3, len(lines))])
	}
	rp := strings.TrimSuffix(manifests[0], ".manifest.ndjson") + ".report.ndjson"
	h, recs := readReport(t, rp)
	if c := countOutcomes(recs); c[report.Deleted] != 130 || filepath.Base(h.Input) != filepath.Base(manifests[0]) {
		t.Fatalf("outcomes %v, report input %q", c, h.Input)
	}
	if got := srv.UserCount(testPool); got != 705 {
		t.Fatalf("%d users left, want 705", got)
	}

	// A week later the next run queries anew: the fresh ones are stale now.
	srv.Advance(7 * day)
	lists := srv.Calls("ListUsers")
	if res = sweep(t.Context(), t, srv, args...); res.code != ExitOK {
		t.Fatalf("next week: exit %d\n%s", res.code, res.stderr)
	}
	if srv.Calls("ListUsers") == lists {
		t.Fatal("the run after a finished one did not query again")
	}
	if lines := manifestUsers(t, manifests[0]); len(lines) != 5 {
		t.Fatalf("new manifest has %d users, want 5", len(lines))
	}
	if got := srv.UserCount(testPool); got != 700 {
		t.Fatalf("%d users left, want 700", got)
	}
	if archived, _ := filepath.Glob(manifests[0] + ".*"); len(archived) != 1 {
		t.Errorf("the finished run's manifest was not archived with its report: %v", archived)
	}
}

// TestSafety_SelectResumeReusesManifest: an unfinished --select run (here
// refused by --max-fraction) keeps its manifest: the same command does not
// query again even though the pool changed.
func TestSafety_SelectResumeReusesManifest(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 20)
	for i := 1; i <= 10; i++ {
		srv.AddUser(testPool, fakecognito.User{Username: fmt.Sprintf("gone%02d", i), Disabled: true})
	}
	dir := t.TempDir()
	t.Chdir(dir)
	args := []string{"delete", "--select", `status = "Disabled"`, "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--endpoint-url", url}
	res := sweep(t.Context(), t, nil, args...)
	if res.code != ExitAborted || !strings.Contains(res.stderr, "--max-fraction") {
		t.Fatalf("exit %d, want 4 by --max-fraction (10 of 30)\n%s", res.code, res.stderr)
	}
	manifests, _ := filepath.Glob(filepath.Join(dir, "select-*.delete.manifest.ndjson"))
	if len(manifests) != 1 || len(manifestUsers(t, manifests[0])) != 10 {
		t.Fatalf("manifests %v", manifests)
	}
	srv.AddUser(testPool, fakecognito.User{Username: "gone11", Disabled: true})
	lists := srv.Calls("ListUsers")
	res = sweep(t.Context(), t, nil, args...)
	if res.code != ExitAborted || srv.Calls("ListUsers") != lists {
		t.Fatalf("resume: exit %d, %d new ListUsers calls; want the stored refusal and no query", res.code, srv.Calls("ListUsers")-lists)
	}
	if n := len(manifestUsers(t, manifests[0])); n != 10 {
		t.Fatalf("manifest changed to %d users", n)
	}
	if n := mutatingCalls(srv); n != 0 {
		t.Fatalf("%d mutating calls", n)
	}
	// A person decides: a larger fraction, and --restart archives the
	// refused run; the query runs anew.
	res = sweep(t.Context(), t, nil, append(args, "--max-fraction", "0.5", "--restart")...)
	if res.code != ExitOK || srv.Calls("AdminDeleteUser") != 11 {
		t.Fatalf("restart: exit %d, %d deletes\n%s", res.code, srv.Calls("AdminDeleteUser"), res.stderr)
	}
}

// TestSafety_SelectDisabledForThirtyDays: the second scheduled job in one
// command: delete users disabled for more than 30 days.
func TestSafety_SelectDisabledForThirtyDays(t *testing.T) {
	awsEnv(t)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	srv, url := fake(t, fakecognito.Options{Now: func() time.Time { return base }}, 100)
	day := 24 * time.Hour
	srv.AddUser(testPool, fakecognito.User{Username: "left-long-ago", Disabled: true, Modified: base.Add(-45 * day)})
	srv.AddUser(testPool, fakecognito.User{Username: "left-last-week", Disabled: true, Modified: base.Add(-7 * day)})
	dir := t.TempDir()
	t.Chdir(dir)
	res := sweep(t.Context(), t, srv, "delete", "--select", `status = "Disabled"`, "--only-disabled-for", "30d",
		"--user-pool-id", testPool, "--confirm-pool-id", testPool, "--endpoint-url", url)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if _, ok := srv.User(testPool, "left-long-ago"); ok {
		t.Error("left-long-ago was not deleted")
	}
	if _, ok := srv.User(testPool, "left-last-week"); !ok {
		t.Error("left-last-week was deleted before its 30 days")
	}
	if n := srv.Calls("AdminDeleteUser"); n != 1 {
		t.Errorf("%d deletes, want 1", n)
	}
}

func TestSafety_SelectUsageErrors(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"with --input", []string{"disable", "--user-pool-id", testPool, "--select", `status = "Disabled"`, "--input", in}, "not both"},
		{"without a pool", []string{"disable", "--select", `status = "Disabled"`, "--region", "us-east-1"}, "--select needs --user-pool-id"},
		{"created-before alone", []string{"disable", "--user-pool-id", testPool, "--input", in, "--created-before", "7d"}, "add --select"},
		{"bad duration", []string{"disable", "--user-pool-id", testPool, "--select", `status = "Disabled"`, "--created-before", "7 days"}, "30d"},
		{"filter Cognito refuses", []string{"disable", "--user-pool-id", testPool, "--select", `shoe_size = "12"`}, "refused the filter"},
		{"only-disabled-for is for delete", []string{"disable", "--user-pool-id", testPool, "--input", in, "--only-disabled-for", "30d"}, "only-disabled-for"},
		{"max-fraction is for delete", []string{"delete-attributes", "--attributes", "name", "--user-pool-id", testPool, "--input", in, "--max-fraction", "0.5"}, "max-fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sweep(t.Context(), t, nil, append(tt.args, "--endpoint-url", url)...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, want 2 mentioning %q\n%s", res.code, tt.want, res.stderr)
			}
		})
	}
	if n := mutatingCalls(srv) + srv.Calls("AdminGetUser"); n != 0 {
		t.Errorf("%d calls", n)
	}
}

func manifestUsers(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m run.ManifestRow
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.UserPoolID != testPool {
			t.Fatalf("manifest line %q: %v", sc.Text(), err)
		}
		names = append(names, m.Username)
	}
	return names
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		ok       bool
	}{
		{"days", "30d", 30 * 24 * time.Hour, true},
		{"fractional days", "1.5d", 36 * time.Hour, true},
		{"go duration", "720h", 720 * time.Hour, true},
		{"minutes", "90m", 90 * time.Minute, true},
		{"negative", "-3d", 0, false},
		{"words", "7 days", 0, false},
		{"empty", "", 0, false},
		{"bare number", "30", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}
