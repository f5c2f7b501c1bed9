package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// An interrupted run has a report line for every row, most of them
// not_attempted: status must not call them done.
func TestStatus_InterruptedRun_DoneApartFromNotAttempted(t *testing.T) {
	awsEnv(t)
	const n = 60
	srv, url := fake(t, fakecognito.Options{Latency: 5 * time.Millisecond}, n)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, n))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- cogsweep(ctx, t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
			"--rate", "20", "--concurrency", "1", "--progress", "off", "--log-format", "json")
	}()
	deadline := time.Now().Add(30 * time.Second)
	for srv.Executed("AdminDisableUser") < 5 {
		if time.Now().After(deadline) {
			t.Fatal("the run made no 5 calls before the deadline")
		}
		time.Sleep(time.Millisecond)
	}
	cancel() // what SIGINT does
	if res := <-done; res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d (interrupted)\n%s", res.code, ExitInterrupted, res.stderr)
	}
	cp := filepath.Join(dir, "leavers.disable.checkpoint")
	js := cogsweep(t.Context(), t, "status", "--json", "--checkpoint", cp)
	var out StatusOutput
	if err := json.Unmarshal([]byte(js.stdout), &out); err != nil {
		t.Fatalf("status --json: %v\n%s", err, js.stdout)
	}
	if out.Done != n || out.NotAttempted == 0 || out.Settled+out.NotAttempted != n || out.Settled != out.Counts["disabled"] {
		t.Fatalf("status --json: done %d, settled %d, not attempted %d, counts %v; want %d lines, settled the disabled ones",
			out.Done, out.Settled, out.NotAttempted, out.Counts, n)
	}
	st := cogsweep(t.Context(), t, "status", "--checkpoint", cp)
	want := fmt.Sprintf("progress: %d of %d rows done, %d not attempted\n", out.Settled, n, out.NotAttempted)
	if !strings.Contains(st.stdout, want) {
		t.Errorf("status does not say %q:\n%s", want, st.stdout)
	}
}
