package run

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

// summarize logs the end-of-run summary, prints it for people, and writes
// --summary.
func (r *plan) summarize(x *executed, final report.CompactResult, status string, audit map[string]any) error {
	st := x.stats
	s := report.Summary{
		Action: string(r.o.Action), DryRun: r.o.DryRun, Status: status,
		Rows: r.rows(), Counts: final.Counts,
		Calls: int64(st.Calls), Throttles: int64(st.Throttles), Retries: int64(st.Retries), Repeated: int64(st.Repeated),
		StartedAt: st.Started.UTC(), LimiterRate: st.WriteRate,
		Writes: int64(st.Writes), Reads: int64(st.Reads), ReadLimiterRate: st.ReadRate,
		Report: r.reportPath, Checkpoint: r.checkpointPath,
		EndedAt: r.now().UTC(), Audit: audit,
	}
	s.SetElapsed(st.Elapsed)
	if !r.console { // a person at the terminal reads the paragraph below
		r.logSummary(s, st)
	}
	if p := x.predicted; p != nil {
		fmt.Fprintf(r.env.Stdout, "%v\n", p) // the verdict first: dry run: the real run would be refused by ...
	}
	fmt.Fprintf(r.env.Stdout, "%s\n", planText(r.o.Action, r.o.DryRun, s))
	if r.o.Summary != "" {
		return s.WriteFile(r.o.Summary)
	}
	return nil
}

// logSummary is the summary's log line, for a log collector.
func (r *plan) logSummary(s report.Summary, st batch.Stats) {
	status := s.Status
	r.log.Info("summary", "status", status, "rows", s.Rows, "counts", CountsString(s.Counts), "calls", s.Calls,
		"throttles", s.Throttles, "retries", s.Retries, "repeated", s.Repeated,
		"throttles_per_min", round1(perMinuteOver(s.Throttles, st.Elapsed)), "elapsed_s", round1(s.ElapsedSeconds),
		"calls_per_s", round1(s.AchievedRate), "limit_per_s", round1(s.LimiterRate),
		"writes", s.Writes, "reads", s.Reads, "read_limit_per_s", round1(s.ReadLimiterRate), "report", r.reportPath)
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
	// Writes and reads are apart: each quota has its own limiter, and
	// their sum against the write limit would look like a broken limit.
	fmt.Fprintf(&b, "\n%d calls in %.1fs (%d throttled, %.1f/min; %d retries):", s.Calls, s.ElapsedSeconds, s.Throttles, perMin, s.Retries)
	fmt.Fprintf(&b, "\nwrites %d, %.1f/s (%s); reads %d, %.1f/s (%s).\nReport: %s",
		s.Writes, perSecond(s.Writes, s.ElapsedSeconds), limitText(s.LimiterRate, " at the end"),
		s.Reads, perSecond(s.Reads, s.ElapsedSeconds), limitText(s.ReadLimiterRate, ""), s.Report)
	return b.String()
}

// limitText is a limiter's rate for people. A run refused before its first
// call never started one; "limit 0.0/s" read like a limit that stopped it.
func limitText(rate float64, when string) string {
	if rate <= 0 {
		return "no limiter started"
	}
	return fmt.Sprintf("limit %.1f/s%s", rate, when)
}

func perSecond(n int64, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(n) / seconds
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
