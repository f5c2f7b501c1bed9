package main_test

import (
	"bytes"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// An ssh session that drops sends SIGHUP: the run drains and exits 75 like
// on SIGTERM, leaving one report line per row, and the same command
// resumes it.
func TestE2E_Signals_DrainAndResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{name: "SIGHUP", sig: syscall.SIGHUP},
		{name: "SIGINT", sig: syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 200
			srv, url := startFake(t, fakecognito.Options{Seed: 3, Latency: 5 * time.Millisecond}, n)
			dir := t.TempDir()
			writeUsers(t, dir, n)
			args := []string{"disable", "--user-pool-id", pool, "--input", "users.csv", "--rate", "200", "--read-rate", "400", "--concurrency", "4"}
			cmd := command(t, dir, url, args...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return srv.Executed("AdminDisableUser") >= 20 })
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(cmd.Wait()); code != 75 {
				t.Fatalf("exit %d after %s, want 75 (drained, resumable)\n%s", code, tc.name, out.String())
			}
			recs := lines(t, filepath.Join(dir, "users.disable.report.ndjson"))
			if len(recs) != n {
				t.Fatalf("interrupted run's report has %d lines, want %d", len(recs), n)
			}
			cmd = command(t, dir, url, args...)
			if o, err := cmd.CombinedOutput(); exitCode(err) != 0 {
				t.Fatalf("resume exit %d\n%s", exitCode(err), o)
			}
			for i, r := range lines(t, filepath.Join(dir, "users.disable.report.ndjson")) {
				if r.Outcome != report.Disabled {
					t.Fatalf("row %d: %s after the resume", i, r.Outcome)
				}
			}
		})
	}
}
