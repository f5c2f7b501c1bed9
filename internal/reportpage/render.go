package reportpage

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/chart"
	"github.com/cogsweep/cogsweep/internal/report"
)

// outcomeRow is one line of the outcome table, in the bar's colour.
type outcomeRow struct {
	Outcome report.Outcome
	Count   int
	Share   string
	Color   string
	Problem bool
}

// outcomes are the counts, problems last, larger first.
func (d *Data) outcomes() []outcomeRow {
	total := 0
	for _, n := range d.Counts {
		total += n
	}
	var out []outcomeRow
	for o, n := range d.Counts {
		out = append(out, outcomeRow{Outcome: o, Count: n, Problem: o.Problem(), Share: fmt.Sprintf("%.1f%%", 100*float64(n)/float64(max(total, 1)))})
	}
	if m := d.Missing(); m > 0 {
		out = append(out, outcomeRow{Outcome: "(no line yet)", Count: m, Problem: true, Share: fmt.Sprintf("%.1f%%", 100*float64(m)/float64(max(total+m, 1)))})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Problem != out[j].Problem {
			return !out[i].Problem
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Outcome < out[j].Outcome
	})
	good := []string{"#009e73", "#0072b2", "#56b4e9", "#cc79a7", "#f0e442", "#7f7f7f"}
	gi := 0
	for i := range out {
		switch out[i].Outcome {
		case report.Failed:
			out[i].Color = "#d55e00"
		case report.Invalid:
			out[i].Color = "#e69f00"
		case report.NotAttempted:
			out[i].Color = "#999999"
		case "(no line yet)":
			out[i].Color = "#dddddd"
		default:
			out[i].Color = good[gi%len(good)]
			gi++
		}
	}
	return out
}

// kv is one line of the audit table.
type kv struct{ Key, Value string }

func (d *Data) audit() []kv {
	keys := make([]string, 0, len(d.Header.Audit))
	for k := range d.Header.Audit {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		v := d.Header.Audit[k]
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		out = append(out, kv{k, s})
	}
	return out
}

// facts are the summary's lines.
func (d *Data) facts() []kv {
	h := d.Header
	f := []kv{
		{"action", h.Action + map[bool]string{true: " (dry run)"}[h.DryRun]},
		{"input", h.Input},
		{"status", d.Status},
		{"rows", fmt.Sprintf("%d, %d with an outcome", h.Rows, d.Have)},
		{"started", h.StartedAt.UTC().Format(time.RFC3339)},
	}
	if h.Shard != "" {
		f = append(f, kv{"shard", h.Shard})
	}
	if from, ok := h.Audit["merged_from"].([]any); ok {
		f = append(f, kv{"merged", fmt.Sprintf("from %d shard reports", len(from))})
	}
	if v := d.View; v != nil && v.Totals.Seconds > 0 {
		t := v.Totals
		f = append(f,
			kv{"recorded", fmt.Sprintf("%s in %d run(s), %d resume(s)", d.Elapsed().Round(time.Second), v.Runs, len(v.Resumes))},
			kv{"calls", fmt.Sprintf("%d sent: %d answered, %d throttled (%.2f%%), %d failed", t.Sent, t.OK, t.Throttled, 100*float64(t.Throttled)/float64(max(t.Sent, 1)), t.Failed)},
			kv{"calls/s", fmt.Sprintf("%.1f over the seconds recorded", float64(t.Sent)/float64(t.Seconds))},
			kv{"latency", fmt.Sprintf("worst p99 in a second %.0f ms", t.MaxP99)},
		)
	}
	return f
}

// charts draws the timeline's charts: calls against the limiter, throttles,
// latency and calls in flight.
func (d *Data) charts() ([]template.HTML, error) {
	v := d.View
	xs := make([]float64, len(v.Points))
	for i, p := range v.Points {
		xs[i] = p.T.Sub(v.Start).Seconds()
	}
	var marks []chart.Mark
	for _, r := range v.Resumes {
		marks = append(marks, chart.Mark{X: r.Sub(v.Start).Seconds(), Label: "resume"})
	}
	label := func(x float64) string { return clock(time.Duration(x) * time.Second) }
	series := func(name string, f func(p int) float64, dashed bool) chart.Series {
		s := chart.Series{Name: name, Dashed: dashed, Values: make([]float64, len(v.Points))}
		for i, p := range v.Points {
			s.Values[i] = math.NaN()
			if !p.Empty {
				s.Values[i] = f(i)
			}
		}
		return s
	}
	var rate []chart.Series
	for k, c := range v.Categories {
		if !v.Used(k) {
			continue // a limiter the run never needed (no email rows: no UserList)
		}
		rate = append(rate,
			series(c+" calls/s", func(i int) float64 { return v.Points[i].Sent[k] }, false),
			series(c+" limit", func(i int) float64 { return v.Points[i].Rate[k] }, true))
	}
	for i := range rate {
		rate[i].Color = chart.Palette[(i/2)%len(chart.Palette)]
	}
	bin := ""
	if v.Bin > 1 {
		bin = fmt.Sprintf(" (means over %d s)", v.Bin)
	}
	cs := []chart.Line{
		{Title: "Calls per second against the limiter's rate" + bin, YLabel: "calls/s", Series: rate},
		{Title: "Throttles per second" + bin, YLabel: "throttles/s", Series: []chart.Series{
			series("throttled", func(i int) float64 { return v.Points[i].Throttled }, false),
			series("failed", func(i int) float64 { return v.Points[i].Failed }, false)}},
		{Title: "Latency of answered calls (worst second of each point)", YLabel: "ms", Series: []chart.Series{
			series("p50", func(i int) float64 { return v.Points[i].P50 }, false),
			series("p99", func(i int) float64 { return v.Points[i].P99 }, false)}},
		{Title: "Calls in flight", YLabel: "calls", Series: []chart.Series{
			series("in flight", func(i int) float64 { return v.Points[i].InFlight }, false)}},
	}
	out := make([]template.HTML, len(cs))
	for i, c := range cs {
		c.X, c.XLabel, c.Marks = xs, label, marks
		h, err := c.HTML()
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// clock is an elapsed time as h:mm:ss or m:ss.
func clock(d time.Duration) string {
	s := int(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// who names a problem row without a token: the username, else the input
// value, else the token's fingerprint.
func who(r report.Record) string {
	switch {
	case r.Username != "":
		return r.Username
	case r.Input != "":
		return r.Input
	case r.TokenSHA256 != "":
		return "token " + r.TokenSHA256
	}
	return "-"
}

// WriteText prints the summary as text.
func WriteText(w io.Writer, d *Data) error {
	var b strings.Builder
	fmt.Fprintf(&b, "cogsweep report: %s\n", d.ReportPath)
	for _, f := range d.facts() {
		fmt.Fprintf(&b, "  %-10s %s\n", f.Key+":", f.Value)
	}
	b.WriteString("outcomes:\n")
	for _, o := range d.outcomes() {
		fmt.Fprintf(&b, "  %-22s %10d  %6s\n", o.Outcome, o.Count, o.Share)
	}
	if d.ProblemTotal > 0 {
		fmt.Fprintf(&b, "rows that need a person (%d):\n", d.ProblemTotal)
		for _, r := range d.Problems {
			fmt.Fprintf(&b, "  row %-8d %-14s %-32s %s %s\n", r.Row, r.Outcome, who(r), r.ErrorCode, r.Message)
		}
		if n := d.More(); n > 0 {
			fmt.Fprintf(&b, "  and %d more (see the report)\n", n)
		}
	}
	if a := d.audit(); len(a) > 0 {
		b.WriteString("audit:\n")
		for _, f := range a {
			fmt.Fprintf(&b, "  %-18s %s\n", f.Key, f.Value)
		}
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
