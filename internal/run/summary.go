package run

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// newLogger logs text on a terminal and JSON otherwise (a CronJob's log
// collector), unless --log-format says which.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, logOptions))
	}
	return slog.New(slog.NewJSONHandler(w, logOptions))
}

// summarize logs the end-of-run summary, prints it for people, and writes
// --summary.
func (r *plan) summarize(x *executed, final report.CompactResult, status string, audit map[string]any) error {
	st := x.stats
	s := report.Summary{
		Action: string(r.o.Action), DryRun: r.o.DryRun, Status: status,
		Rows: r.rows(), Counts: final.Counts,
		Calls: int64(st.Calls), Throttles: int64(st.Throttles), Retries: int64(st.Retries), Repeated: int64(st.Repeated),
		StartedAt: st.Started.UTC(), LimiterRate: st.WriteRate,
		Report: r.reportPath, Checkpoint: r.checkpointPath,
		EndedAt: r.now().UTC(), Audit: audit,
	}
	s.SetElapsed(st.Elapsed)
	r.log.Info("summary", "status", status, "rows", s.Rows, "counts", CountsString(s.Counts), "calls", s.Calls,
		"throttles", s.Throttles, "retries", s.Retries, "repeated", s.Repeated,
		"throttles_per_min", round1(perMinuteOver(s.Throttles, st.Elapsed)), "elapsed_s", round1(s.ElapsedSeconds),
		"calls_per_s", round1(s.AchievedRate), "limit_per_s", round1(s.LimiterRate), "report", r.reportPath)
	fmt.Fprintf(r.env.Stdout, "%s\n", planText(r.o.Action, r.o.DryRun, s))
	if p := x.predicted; p != nil {
		fmt.Fprintf(r.env.Stdout, "%v\n", p) // dry run: the real run would be refused by ...
	}
	if r.o.Summary != "" {
		return s.WriteFile(r.o.Summary)
	}
	return nil
}

// planText is the one-paragraph summary people read; for a dry run it reads
// like a plan.
func planText(a batch.Action, dry bool, s report.Summary) string {
	var b strings.Builder
	if dry {
		fmt.Fprintf(&b, "Plan for %s of %s rows: %s.", a, thousands(s.Rows), planPhrases(a, s.Counts))
	} else {
		fmt.Fprintf(&b, "%s %s: %d rows: %s.", a, s.Status, s.Rows, CountsString(s.Counts))
	}
	perMin := perMinuteOver(s.Throttles, time.Duration(s.ElapsedSeconds*float64(time.Second)))
	fmt.Fprintf(&b, "\n%d calls (%d throttled, %.1f/min; %d retries) in %.1fs: %.1f calls/s, limiter at %.1f/s at the end.\nReport: %s",
		s.Calls, s.Throttles, perMin, s.Retries, s.ElapsedSeconds, s.AchievedRate, s.LimiterRate, s.Report)
	return b.String()
}

// CountsString is a report's counts for people: "3 disabled, 1 not_found".
func CountsString(c map[report.Outcome]int) string {
	keys := make([]string, 0, len(c))
	for k, n := range c {
		if n > 0 {
			keys = append(keys, string(k))
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", c[report.Outcome(k)], k)
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}
