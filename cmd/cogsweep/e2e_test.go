package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reporttest"
)

// The end-to-end tests build the binary once and run it as a user would,
// against the wire-level fake Cognito served by the test process.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cogsweep-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cogsweep")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build cogsweep: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const pool = "us-east-1_E2E000001"

func startFake(t *testing.T, opts fakecognito.Options, n int) (*fakecognito.Server, string) {
	t.Helper()
	srv := fakecognito.New(opts)
	if err := srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := srv.AddUser(pool, fakecognito.User{Username: name(i)}); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func name(i int) string { return fmt.Sprintf("person-%05d", i) }

func command(t *testing.T, dir, url string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, append(args, "--endpoint-url", url, "--progress", "off")...)
	cmd.Dir = dir
	cmd.Env = []string{
		"AWS_ACCESS_KEY_ID=AKIDE2E", "AWS_SECRET_ACCESS_KEY=e2e-secret", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"HOME=" + dir, "TMPDIR=" + dir,
		"AWS_ENDPOINT_URL_STS=" + url, // the fake answers the pre-flight's GetCallerIdentity too
	}
	return cmd
}

// runUntil starts cmd and SIGKILLs it once reached says so; it reports
// whether it killed it. A run that ends first must end with exit 0, and
// one that makes no progress for a minute fails the test.
func runUntil(t *testing.T, cmd *exec.Cmd, reached func() bool) bool {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-done:
			if code := exitCode(err); code != 0 {
				t.Fatalf("run ended with exit %d\n%s", code, out.String())
			}
			return false
		case <-deadline:
			t.Fatal("run did not progress")
		default:
			if reached() {
				_ = cmd.Process.Kill()
				<-done
				return true
			}
			time.Sleep(200 * time.Microsecond) // polls the fake's counter, not a wait for an event
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func lines(t *testing.T, path string) map[int]report.Record {
	t.Helper()
	return reporttest.Records(t, path)
}

func TestE2E_StdinNDJSON_ExitCodes(t *testing.T) {
	srv, url := startFake(t, fakecognito.Options{}, 5)
	dir := t.TempDir()
	in := ""
	for i := 1; i <= 5; i++ {
		in += fmt.Sprintf(`{"username":%q}`+"\n", name(i))
	}
	in += `{"username":"bad name"}` + "\n"

	cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "-", "--format", "ndjson")
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 3 {
		t.Fatalf("exit %d, want 3 (one invalid row)\n%s", code, out)
	}
	recs := lines(t, filepath.Join(dir, "stdin.disable.report.ndjson"))
	if len(recs) != 6 || recs[6].Outcome != report.Invalid {
		t.Fatalf("report %v", recs)
	}
	for i := 1; i <= 5; i++ {
		if u, _ := srv.User(pool, name(i)); !u.Disabled {
			t.Fatalf("%s not disabled", name(i))
		}
	}
	// The spooled copy of stdin is removed once the run finished.
	if m, _ := filepath.Glob(filepath.Join(dir, "cogsweep-stdin*")); len(m) != 0 {
		t.Errorf("spool left behind: %v", m)
	}

	cmd = command(t, dir, url, "disable", "--user-pool-id", pool)
	if out, err := cmd.CombinedOutput(); exitCode(err) != 2 {
		t.Fatalf("missing --input: exit %d, want 2\n%s", exitCode(err), out)
	}
	// The top level has no --endpoint-url (command adds it): an unknown
	// flag there is a usage error, so its help is asked for alone.
	if out, err := exec.Command(binary, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "Exit codes") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
}

func TestE2E_SIGTERM_DrainsThenResumes(t *testing.T) {
	const n = 400
	srv, url := startFake(t, fakecognito.Options{Seed: 11, Latency: 5 * time.Millisecond}, n)
	dir := t.TempDir()
	writeUsers(t, dir, n)
	args := []string{"delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "users.csv", "--rate", "400", "--concurrency", "4"}
	cmd := command(t, dir, url, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Executed("AdminDeleteUser") >= 40 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(cmd.Wait()); code != 75 {
		t.Fatalf("exit %d after SIGTERM, want 75\n%s", code, out.String())
	}
	if got := len(lines(t, filepath.Join(dir, "users.delete.report.ndjson"))); got != n {
		t.Fatalf("interrupted run's report has %d lines, want %d", got, n)
	}
	cmd = command(t, dir, url, args...)
	if o, err := cmd.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("resume exit %d\n%s", exitCode(err), o)
	}
	if srv.UserCount(pool) != 0 {
		t.Fatalf("%d users left", srv.UserCount(pool))
	}
}

func writeUsers(t *testing.T, dir string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("username,note\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s,row %d\n", name(i), i)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached before the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestE2E_CrashLoop kills a delete run with SIGKILL at random moments and
// resumes it each time: in the end every row has exactly one final outcome,
// the pool holds exactly the users not in the input, and the mutating calls
// the server executed again are bounded by what was in flight at each kill.
func TestE2E_CrashLoop(t *testing.T) {
	const (
		n           = 5000
		keep        = 50 // users not in the input: they must survive
		concurrency = 8
		kills       = 10
	)
	srv, url := startFake(t, fakecognito.Options{Seed: 5, ThrottleProb: 0.10, ErrorProb: 0.01}, n+keep)
	dir := t.TempDir()
	writeUsers(t, dir, n)
	args := []string{"delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "users.csv", "--rate", "3000", "--concurrency", fmt.Sprint(concurrency)}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	killed := 0
	for killed < kills {
		before := srv.Processed("AdminDeleteUser")
		// Kill after a random number of further deletes (or let it end).
		target := before + 50 + rng.IntN(400)
		if runUntil(t, command(t, dir, url, args...), func() bool { return srv.Processed("AdminDeleteUser") >= target }) {
			killed++
		}
		if srv.UserCount(pool) == keep {
			break
		}
	}
	cmd := command(t, dir, url, args...)
	if o, err := cmd.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("final run exit %d\n%s", exitCode(err), o)
	}
	recs := lines(t, filepath.Join(dir, "users.delete.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("report has %d rows, want %d", len(recs), n)
	}
	for i := 1; i <= n; i++ {
		if o := recs[i].Outcome; o != report.Deleted {
			t.Fatalf("row %d: %s (%s)", i, o, recs[i].Message)
		}
		if _, ok := srv.User(pool, name(i)); ok {
			t.Fatalf("%s still exists", name(i))
		}
	}
	if got := srv.UserCount(pool); got != keep {
		t.Fatalf("%d users left, want the %d not in the input", got, keep)
	}
	processed := srv.Processed("AdminDeleteUser")
	repeated := processed - n
	t.Logf("crash loop: %d kills, %d rows, %d deletes processed by the server (%d repeated, bound %d), %d throttled calls, %s",
		killed, n, processed, repeated, killed*concurrency, srv.Throttled(), time.Since(start).Round(time.Millisecond))
	if killed < kills {
		t.Fatalf("only %d kills happened before the run finished", killed)
	}
	if repeated > killed*concurrency {
		t.Fatalf("%d repeated deletes, more than kills x concurrency = %d", repeated, killed*concurrency)
	}
}
