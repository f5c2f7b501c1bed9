package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/run"
)

// syncBuffer is a log a test reads while the run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// startMain runs cogsweep with args in the background on the clock now,
// and returns its log (read while it runs), its exit code once it ends, and
// what interrupts it. A test that stops early interrupts it and waits for
// it, so that its files are closed before the test's directory is removed.
func startMain(t *testing.T, now func() time.Time, args ...string) (*syncBuffer, <-chan int, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	ended := make(chan struct{})
	no := false
	go func() {
		defer close(ended)
		var stdout bytes.Buffer
		done <- Main(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: stderr, Getenv: os.Getenv, StdinIsTerminal: &no, Now: now})
	}()
	t.Cleanup(func() {
		cancel()
		<-ended
	})
	return stderr, done, cancel
}

// TestRun_OuterLoop runs delete --rate auto against a fake account whose
// usage metrics the run reads every 20 ms (--usage-interval) on the fake's
// clock. Mid-run, production's calls of the current minute are recorded,
// throttled or not, and the clock moves past the metric's lag: the run
// judges that minute. Throttled production (the job itself never is: the
// fake enforces no bucket) lowers the job's ceiling under the rate it ran
// at; production served leaves the rate alone.
func TestRun_OuterLoop(t *testing.T) {
	tests := []struct {
		name      string
		throttled int // production's throttled calls in the minute
		wantCut   bool
	}{
		{name: "production throttled mid-run: the job's ceiling drops", throttled: 60, wantCut: true},
		{name: "production served: nothing changes", throttled: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			const rows = 3000
			srv, url := fake(t, fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserUpdate: 50}}, rows)
			srv.SeedUsage(fakecognito.UserUpdate, 20*time.Minute, 5, 0) // free: (50-5) x 0.9 = 40.5/s
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "leavers.csv", usersCSV(1, rows))
			stderr, done, cancel := startMain(t, srv.Now, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
				"--input", in, "--endpoint-url", url, "--rate", "auto", "--usage-interval", "20ms",
				"--progress", "off", "--log-format", "json")
			waitFor(t, "the job's first deletes", 30*time.Second, func() bool { return srv.Executed("AdminDeleteUser") >= 20 })
			srv.RecordProduction(fakecognito.UserUpdate, 600-tt.throttled, tt.throttled)
			srv.Advance(run.UsageLag + time.Minute) // the minute is published and old enough
			var reading map[string]any
			waitFor(t, "a judged reading", 30*time.Second, func() bool {
				reading = findLog(logLines(t, stderr.String()), "production")
				return reading != nil
			})
			cancel()
			if code := <-done; code != ExitInterrupted {
				t.Fatalf("exit %d, want %d (interrupted by the test)\n%s", code, ExitInterrupted, stderr.String())
			}
			recs := logLines(t, stderr.String())
			cut := findLog(recs, "production is being throttled")
			if (cut != nil) != tt.wantCut {
				t.Fatalf("ceiling line %v, want one: %v\n%s", cut, tt.wantCut, stderr.String())
			}
			if got := reading["production_throttled"].(float64); got != float64(tt.throttled) {
				t.Errorf("production_throttled %v, want %d: the job's own calls are not production's", got, tt.throttled)
			}
			if got := reading["production_calls"].(float64); got < 600 || got > 620 {
				t.Errorf("production_calls %v, want 600 (a few of the job's calls may straddle the minute)", got)
			}
			rate, ceiling := reading["rate"].(float64), reading["ceiling"].(float64)
			sum := findLog(recs, "summary")
			if sum == nil {
				t.Fatalf("no summary line\n%s", stderr.String())
			}
			limit := sum["limit_per_s"].(float64)
			if tt.wantCut {
				if ceiling <= 0 || ceiling > 0.8*rate+1e-6 || limit > ceiling+0.05 {
					t.Errorf("ceiling %v at rate %v, final limit %v: want the limit held under 80%% of the rate", ceiling, rate, limit)
				}
				return
			}
			if ceiling != 0 || limit <= 0.8*rate {
				t.Errorf("ceiling %v at rate %v, final limit %v: want no ceiling and the rate kept", ceiling, rate, limit)
			}
		})
	}
}

// TestRun_OuterLoopOffWhenDenied: a pre-flight read of CloudWatch that was
// denied is not tried again during the run, however often the interval.
func TestRun_OuterLoopOffWhenDenied(t *testing.T) {
	awsEnv(t)
	const rows = 100
	srv, url := fake(t, fakecognito.Options{DenyOps: []string{"GetMetricData"}}, rows)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, rows))
	// The run's clock runs a thousand times fast: minutes of metrics are
	// old enough to be read many times over.
	start := time.Now()
	fast := func() time.Time { return start.Add(time.Since(start) * 1000) }
	var out, errb bytes.Buffer
	no := false
	code := Main(t.Context(), []string{"delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--rate", "auto", "--usage-interval", "10ms", "--progress", "off", "--log-format", "json"},
		Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no, Now: fast})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	if n := srv.Calls("GetMetricData"); n != 1 {
		t.Errorf("GetMetricData called %d times, want once (the pre-flight's)", n)
	}
}

// TestRun_OuterLoop_Restore: a restore under --rate auto watches the
// category it spends, UserCreation (shared with sign-ups): production's
// throttled sign-ups lower the creates' ceiling, as production's throttled
// updates lower a delete's.
func TestRun_OuterLoop_Restore(t *testing.T) {
	awsEnv(t)
	const n = 3000
	srv, url := fake(t, fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserCreation: 50}}, 0)
	_, _, _, bk := deletedWithBackup(t, srv, url, n)
	srv.SeedUsage(fakecognito.UserCreation, 20*time.Minute, 5, 0)
	stderr, done, cancel := startMain(t, srv.Now, "restore", "--from-backup", bk, "--endpoint-url", url, "--rate", "auto", "--read-rate", "5000",
		"--usage-interval", "20ms", "--progress", "off", "--log-format", "json")
	waitFor(t, "the restore's first creates", 30*time.Second, func() bool { return srv.Executed("AdminCreateUser") >= 20 })
	srv.RecordProduction(fakecognito.UserCreation, 540, 60)
	srv.Advance(run.UsageLag + time.Minute)
	waitFor(t, "a judged reading", 30*time.Second, func() bool {
		return findLog(logLines(t, stderr.String()), "production is being throttled") != nil
	})
	cancel()
	if code := <-done; code != ExitInterrupted {
		t.Fatalf("exit %d, want %d (interrupted by the test)\n%s", code, ExitInterrupted, stderr.String())
	}
	cut := findLog(logLines(t, stderr.String()), "production is being throttled")
	if cut["category"] != "UserCreation" || cut["production_throttled"].(float64) != 60 {
		t.Errorf("ceiling line %v: want UserCreation's 60 throttled sign-ups", cut)
	}
	if rate, ceiling := cut["rate"].(float64), cut["ceiling"].(float64); ceiling <= 0 || ceiling > 0.8*rate+1e-6 {
		t.Errorf("ceiling %v at rate %v: want the creates held under 80%% of their rate", ceiling, rate)
	}
}
