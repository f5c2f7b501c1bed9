package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reporttest"
)

const testPool = "us-east-1_TEST00001"

// fake starts a wire-level fake Cognito with one pool holding n users
// user0001.. and returns it with its URL.
func fake(t *testing.T, opts fakecognito.Options, n int) (*fakecognito.Server, string) {
	t.Helper()
	srv := fakecognito.New(opts)
	if err := srv.CreatePool(testPool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := srv.AddUser(testPool, fakecognito.User{Username: userName(i)}); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	// The fake answers STS GetCallerIdentity too (the pre-flight's first
	// call); --endpoint-url is Cognito's only.
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)
	return srv, hs.URL
}

func userName(i int) string { return fmt.Sprintf("user%04d", i) }

// awsEnv gives the SDK credentials that only the fake accepts, and keeps it
// away from the developer's own AWS configuration.
func awsEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func usersCSV(from, to int) string {
	var b strings.Builder
	b.WriteString("username\n")
	for i := from; i <= to; i++ {
		b.WriteString(userName(i) + "\n")
	}
	return b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

func cogsweep(ctx context.Context, t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	no := false
	code := Main(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no})
	return result{code, out.String(), errb.String()}
}

// readReport returns the report's records by row, failing on a second line
// for a row.
func readReport(t *testing.T, path string) (report.Header, map[int]report.Record) {
	t.Helper()
	return reporttest.Read(t, path)
}

func countOutcomes(recs map[int]report.Record) map[report.Outcome]int {
	c := map[report.Outcome]int{}
	for _, r := range recs {
		c[r.Outcome]++
	}
	return c
}

func TestRun_DisableThenDelete_OverTheWire_WithFaults(t *testing.T) {
	awsEnv(t)
	const n = 1000
	srv, url := fake(t, fakecognito.Options{Seed: 7, ThrottleProb: 0.10, ErrorProb: 0.01}, n)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, n))
	start := time.Now()

	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in,
		"--endpoint-url", url, "--rate", "5000", "--read-rate", "5000", "--concurrency", "16", "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("disable exit %d\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "leavers.disable.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("disable report has %d rows, want %d", len(recs), n)
	}
	for i := 1; i <= n; i++ {
		u, ok := srv.User(testPool, userName(i))
		if !ok || !u.Disabled {
			t.Fatalf("%s: present=%v disabled=%v after disable", userName(i), ok, u.Disabled)
		}
		if recs[i].Outcome != report.Disabled {
			t.Fatalf("row %d outcome %s, want disabled", i, recs[i].Outcome)
		}
	}
	t.Logf("disable: %d AdminDisableUser, %d AdminGetUser calls, %d throttled", srv.Calls("AdminDisableUser"), srv.Calls("AdminGetUser"), srv.Throttled())

	res = cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--rate", "5000", "--concurrency", "16", "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("delete exit %d\n%s", res.code, res.stderr)
	}
	_, recs = readReport(t, filepath.Join(dir, "leavers.delete.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("delete report has %d rows, want %d", len(recs), n)
	}
	if got := srv.UserCount(testPool); got != 0 {
		t.Fatalf("%d users left after delete", got)
	}
	c := countOutcomes(recs)
	if c[report.Deleted]+c[report.NotFound] != n {
		t.Fatalf("outcomes %v", c)
	}
	t.Logf("delete: %d AdminDeleteUser calls (%d executed); both runs %s; throttled in all %d",
		srv.Calls("AdminDeleteUser"), srv.Executed("AdminDeleteUser"), time.Since(start).Round(time.Millisecond), srv.Throttled())
}

func TestRun_MissingPoolAbortsBeforeAnyCall(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 10)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 10))
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", "us-east-1_MISSING1", "--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitAborted {
		t.Fatalf("exit %d, want %d\n%s", res.code, ExitAborted, res.stderr)
	}
	if !strings.Contains(res.stderr, "does not exist") {
		t.Errorf("message does not name the cause: %s", res.stderr)
	}
	if n := srv.Calls("AdminDisableUser") + srv.Calls("AdminGetUser"); n != 0 {
		t.Errorf("%d user calls made, want 0", n)
	}
}

func TestRun_RunWideFaultMidRun_RecordsEveryRow(t *testing.T) {
	awsEnv(t)
	const n = 200
	srv, url := fake(t, fakecognito.Options{}, n)
	srv.SetDenyOps([]string{"AdminDeleteUser"})
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, n))
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--rate", "5000", "--concurrency", "4", "--progress", "off")
	if res.code != ExitAborted {
		t.Fatalf("exit %d, want 4\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "AccessDeniedException") {
		t.Errorf("message does not name the cause: %s", res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "in.delete.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("report has %d rows, want %d", len(recs), n)
	}
	if c := countOutcomes(recs); c[report.NotAttempted] != n {
		t.Fatalf("outcomes %v, want all not_attempted", c)
	}
	if calls := srv.Calls("AdminDeleteUser"); calls > 4 {
		t.Errorf("%d delete calls after the first denial; want at most the workers in flight (4)", calls)
	}
}

func TestRun_BadRowsAreOutcomes(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", strings.Join([]string{
		"username,user_pool_id,note",
		"user0001,,ok",
		"has space,,bad username",
		"user0002,not-a-pool,bad pool",
		"user0001,,duplicate",
		"nobody,,missing user",
		"user0003,eu-west-1_OTHER1,other region",
		"",
		"user0002,,ok",
	}, "\n")+"\n")
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitRowProblems {
		t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "in.disable.report.ndjson"))
	want := map[int]report.Outcome{1: report.Disabled, 2: report.Invalid, 3: report.Invalid, 4: report.Duplicate,
		5: report.NotFound, 6: report.Invalid, 7: report.Disabled}
	for row, o := range want {
		if recs[row].Outcome != o {
			t.Errorf("row %d: %s (%s), want %s", row, recs[row].Outcome, recs[row].Message, o)
		}
	}
	if len(recs) != len(want) {
		t.Errorf("%d report lines, want %d", len(recs), len(want))
	}
	if got := srv.Calls("AdminDisableUser"); got != 2 {
		t.Errorf("%d AdminDisableUser calls, want 2", got)
	}
}

func TestRun_UsageErrorsBeforeAnyCall(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	noUser := writeFile(t, dir, "emails.csv", "name,phone\nAlice,123\n")
	good := writeFile(t, dir, "good.csv", usersCSV(1, 3))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no username column", []string{"disable", "--user-pool-id", testPool, "--input", noUser}, "no known column"},
		{"missing input", []string{"disable", "--user-pool-id", testPool, "--input", filepath.Join(dir, "nope.csv")}, "open input"},
		{"unknown extension", []string{"disable", "--user-pool-id", testPool, "--input", writeFile(t, dir, "x.txt", "username\na\n")}, "--format"},
		{"bad rate", []string{"disable", "--user-pool-id", testPool, "--input", good, "--rate", "fast"}, "--rate"},
		{"stray argument", []string{"disable", "--input", good, "extra"}, "unexpected argument"},
		{"stdin without format", []string{"disable", "--input", "-"}, "--format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := cogsweep(t.Context(), t, append(tt.args, "--endpoint-url", url)...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", res.stderr, tt.want)
			}
		})
	}
	if n := srv.Calls("AdminDisableUser") + srv.Calls("AdminGetUser") + srv.Calls("DescribeUserPool"); n != 0 {
		t.Errorf("%d calls made, want 0", n)
	}
}

func TestRun_DeleteNeedsConfirmation(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--max-fraction", "1")
	if res.code != ExitAborted || !strings.Contains(res.stderr, "--confirm-pool-id") {
		t.Fatalf("exit %d, want 4 naming --confirm-pool-id\n%s", res.code, res.stderr)
	}
	if srv.Calls("AdminDeleteUser") != 0 {
		t.Fatal("deleted without confirmation")
	}
}

func TestRun_InterruptDrainsAndResumes(t *testing.T) {
	awsEnv(t)
	const n = 300
	srv, url := fake(t, fakecognito.Options{Seed: 3, Latency: 5 * time.Millisecond}, n)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, n))
	args := []string{"delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--rate", "300", "--concurrency", "4", "--progress", "off"}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan result, 1)
	go func() { done <- cogsweep(ctx, t, args...) }()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Executed("AdminDeleteUser") < 50 {
		if time.Now().After(deadline) {
			t.Fatal("no progress")
		}
		time.Sleep(2 * time.Millisecond) // polling with a deadline
	}
	cancel()
	res := <-done
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want 75\n%s", res.code, res.stderr)
	}
	rp := filepath.Join(dir, "in.delete.report.ndjson")
	_, recs := readReport(t, rp)
	if len(recs) != n {
		t.Fatalf("interrupted run left %d report lines, want %d", len(recs), n)
	}
	c := countOutcomes(recs)
	if c[report.Deleted] == 0 || c[report.NotAttempted] == 0 {
		t.Fatalf("outcomes after interrupt %v", c)
	}

	res = cogsweep(t.Context(), t, args...)
	if res.code != ExitOK {
		t.Fatalf("resume exit %d\n%s", res.code, res.stderr)
	}
	_, recs = readReport(t, rp)
	c = countOutcomes(recs)
	if c[report.Deleted] != n {
		t.Fatalf("after resume %v, want %d deleted", c, n)
	}
	if srv.UserCount(testPool) != 0 {
		t.Fatal("users left")
	}
	if calls := srv.Calls("AdminDeleteUser"); calls > n+4 {
		t.Fatalf("%d delete calls for %d rows: more than rows + concurrency", calls, n)
	}
	// The same command once more is a finished run with nothing to do.
	before := srv.Calls("AdminDeleteUser")
	res = cogsweep(t.Context(), t, args...)
	if res.code != ExitOK || srv.Calls("AdminDeleteUser") != before {
		t.Fatalf("rerun of a finished run: exit %d, %d new calls", res.code, srv.Calls("AdminDeleteUser")-before)
	}
}
