package main_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// TestE2E_SecondRunRefused starts a slow disable run and, while it lives,
// a second run that must not share its files: it exits 2 naming what is
// held, and the first run ends by itself with exactly one outcome per row,
// in its own report (not archived), and no user disabled twice.
func TestE2E_SecondRunRefused(t *testing.T) {
	const n = 300
	tests := []struct {
		name string
		// before runs while the first run lives, before the second starts.
		before func(t *testing.T, dir string)
		second []string // the second run's file flags
		want   string   // in the second run's message
	}{
		{
			name:   "lock files removed, same command",
			before: removeLocks,
			second: []string{"--report", "run.report.ndjson", "--checkpoint", "a.checkpoint"},
			want:   "is held by a running cogsweep",
		},
		{
			// Another report, so that only the checkpoint's lock can refuse.
			name:   "lock files removed, same checkpoint, another report",
			before: removeLocks,
			second: []string{"--report", "other.report.ndjson", "--checkpoint", "a.checkpoint"},
			want:   "checkpoint a.checkpoint is held by a running cogsweep",
		},
		{
			name:   "same report, another checkpoint",
			before: func(*testing.T, string) {},
			second: []string{"--report", "run.report.ndjson", "--checkpoint", "b.checkpoint"},
			want:   "report run.report.ndjson is held by a running cogsweep",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := startFake(t, fakecognito.Options{Seed: 3, Latency: 5 * time.Millisecond}, n)
			dir := t.TempDir()
			writeUsers(t, dir, n)
			base := []string{"disable", "--user-pool-id", pool, "--input", "users.csv",
				"--rate", "100", "--read-rate", "400", "--concurrency", "2"}
			first := command(t, dir, url, append(base, "--report", "run.report.ndjson", "--checkpoint", "a.checkpoint")...)
			var out1 bytes.Buffer
			first.Stdout, first.Stderr = &out1, &out1
			if err := first.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- first.Wait() }()
			waitFor(t, func() bool { return srv.Executed("AdminDisableUser") >= 20 })
			tt.before(t, dir)

			out2, err := command(t, dir, url, append(base, tt.second...)...).CombinedOutput()
			code := exitCode(err)
			if code != 2 || !strings.Contains(string(out2), tt.want) {
				t.Errorf("second run: exit %d, want 2 with %q\n%s", code, tt.want, out2)
			} else {
				select {
				case err := <-done:
					t.Fatalf("the first run ended (%v) before the second was judged: the test is too fast\n%s", err, out1.String())
				default:
				}
			}
			if code := exitCode(<-done); code != 0 {
				t.Fatalf("first run: exit %d, want 0\n%s", code, out1.String())
			}
			recs := lines(t, filepath.Join(dir, "run.report.ndjson")) // fails on a row with two lines
			if len(recs) != n {
				t.Fatalf("first run's report has %d rows, want %d", len(recs), n)
			}
			for row, r := range recs {
				if r.Outcome != report.Disabled {
					t.Fatalf("row %d: %s, want disabled", row, r.Outcome)
				}
			}
			if got := srv.Executed("AdminDisableUser"); got != n {
				t.Errorf("AdminDisableUser executed %d times for %d rows", got, n)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "run.report.ndjson.*")); len(m) != 0 {
				t.Errorf("the live run's report was archived: %v", m)
			}
			if _, err := os.Stat(filepath.Join(dir, "other.report.ndjson")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused run left its report: %v", err)
			}
		})
	}
}

// removeLocks deletes every *.lock file, as someone tidying "stale" locks
// under a live run would.
func removeLocks(t *testing.T, dir string) {
	locks, _ := filepath.Glob(filepath.Join(dir, "*.lock"))
	for _, l := range locks {
		if err := os.Remove(l); err != nil {
			t.Fatal(err)
		}
	}
}
