package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

func TestPlanEstimate(t *testing.T) {
	t0 := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	plan := &report.Header{StartedAt: t0, Audit: map[string]any{"account": map[string]any{
		"free": 20.0, "rows": 49200.0, "estimate_seconds": 2460.0, // 41m
	}}}
	tests := []struct {
		name     string
		h        *report.Header
		done     int
		elapsed  time.Duration
		finished bool
		want     string // "" for no estimate
	}{
		{name: "on pace", h: plan, done: 14760, elapsed: 12 * time.Minute,
			want: "41m at 20/s free for 49200 rows; 12m elapsed, 30% done, on pace"},
		{name: "behind", h: plan, done: 7380, elapsed: 12 * time.Minute,
			want: "41m at 20/s free for 49200 rows; 12m elapsed, 15% done, behind"},
		{name: "past the estimate and not done: behind", h: plan, done: 40000, elapsed: time.Hour,
			want: "41m at 20/s free for 49200 rows; 1h00m elapsed, 81% done, behind"},
		{name: "finished", h: plan, done: 49200, elapsed: 39 * time.Minute, finished: true,
			want: "41m at 20/s free for 49200 rows; 39m taken, 100% done, finished"},
		{name: "no plan in the audit record", h: &report.Header{StartedAt: t0, Audit: map[string]any{}}, done: 10, elapsed: time.Minute},
		{name: "no report header", done: 10, elapsed: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := planEstimate(tt.h, tt.done, t0.Add(tt.elapsed), tt.finished)
			got := ""
			if e != nil {
				got = e.String()
			}
			if got != tt.want {
				t.Errorf("estimate %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatus_ShowsTheEstimate: a run's plan, read by the pre-flight from
// the fake account, is shown by status against the run's progress.
func TestStatus_ShowsTheEstimate(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 20)
	srv.SeedUsage(fakecognito.UserUpdate, 20*time.Minute, 20, 0) // free 4.5/s: 20 rows in about 4 s
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 20))
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
		"--rate", "auto", "--progress", "off", "--log-format", "json")
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	st := cogsweep(t.Context(), t, "status", "--checkpoint", filepath.Join(dir, "leavers.disable.checkpoint"))
	if st.code != ExitOK {
		t.Fatalf("status exit %d: %s", st.code, st.stderr)
	}
	var line string
	for _, l := range strings.Split(st.stdout, "\n") {
		if strings.HasPrefix(l, "estimate: ") {
			line = l
		}
	}
	if !strings.HasPrefix(line, "estimate: 4s at 4.5/s free for 20 rows; ") || !strings.HasSuffix(line, " taken, 100% done, finished") {
		t.Errorf("estimate line %q, want the plan's 4s at 4.5/s for 20 rows, finished\n%s", line, st.stdout)
	}
	js := cogsweep(t.Context(), t, "status", "--json", "--checkpoint", filepath.Join(dir, "leavers.disable.checkpoint"))
	if !strings.Contains(js.stdout, `"estimate_seconds": 4`) || !strings.Contains(js.stdout, `"pace": "finished"`) {
		t.Errorf("status --json has no estimate:\n%s", js.stdout)
	}
}
