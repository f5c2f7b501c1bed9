package reportpage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// writeReport writes a report of rows rows: recs gives each row's lines
// (the last one wins, as after a resume).
func writeReport(t testing.TB, path string, rows int, audit map[string]any, recs func(row int) []report.Record) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	h, _ := json.Marshal(report.Header{Kind: report.HeaderKind, SchemaVersion: 1, Tool: "cogsweep", Action: "disable",
		Input: "leavers.csv", Rows: rows, StartedAt: t0, Audit: audit})
	w.Write(append(h, '\n'))
	var buf []byte
	for row := 1; row <= rows; row++ {
		for _, r := range recs(row) {
			r.Row, r.Action, r.At = row, "disable", t0
			buf = append(report.AppendRecord(buf[:0], &r), '\n')
			w.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// writeTimeline writes two runs of secs seconds each, the second a resume
// after a gap.
func writeTimeline(t testing.TB, path string, secs int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"kind":"cogsweep-timeline","v":1}` + "\n")
	for run := 1; run <= 2; run++ {
		start := t0.Add(time.Duration(run-1) * time.Duration(secs+30) * time.Second)
		fmt.Fprintf(&b, `{"run":%d,"at":%q,"resume":%v,"categories":["UserUpdate","UserRead"]}`+"\n", run, start.Format(time.RFC3339), run == 2)
		for i := range secs {
			s := timeline.Sample{T: start.Unix() + int64(i) + 1, InFlight: 3, Latency: [3]float64{40, 60, 90},
				Cats: []timeline.Counts{{Sent: 18, OK: 17, Throttled: 1, Rate: 20}, {Sent: 20, OK: 20, Rate: 25}}}
			b.Write(append(timeline.AppendSample(nil, &s), '\n'))
		}
		end := map[int]string{1: "interrupted", 2: "finished"}[run]
		fmt.Fprintf(&b, `{"end":%q,"at":%q}`+"\n", end, start.Add(time.Duration(secs)*time.Second).Format(time.RFC3339))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hostile is what a report could hold that must never reach the page as
// markup.
const hostile = `<script>alert(1)</script>"><img src=http://evil.example/x.png>`

func sampleRows(row int) []report.Record {
	switch {
	case row == 3:
		return []report.Record{{Outcome: report.Invalid, Input: hostile, Message: "email has a character " + hostile}}
	case row%10 == 0:
		return []report.Record{{Outcome: report.Failed, Username: fmt.Sprintf("user%d", row), UserPoolID: "us-east-1_AbC123",
			ErrorCode: "InternalErrorException", Message: "retry InternalErrorException", Transient: true}}
	case row == 7:
		// failed, then disabled by the resume: the last line wins.
		return []report.Record{{Outcome: report.Failed, Username: "user7", ErrorCode: "X"}, {Outcome: report.Disabled, Username: "user7"}}
	case row > 95:
		return []report.Record{{Outcome: report.NotAttempted, Username: fmt.Sprintf("user%d", row), Message: "not reached: interrupted"}}
	}
	return []report.Record{{Outcome: report.Disabled, Username: fmt.Sprintf("user%d", row)}}
}

func render(t *testing.T, o Options) (string, *Data) {
	t.Helper()
	d, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String(), d
}

func TestWriteHTML_Page(t *testing.T) {
	dir := t.TempDir()
	rp, tp := filepath.Join(dir, "r.report.ndjson"), filepath.Join(dir, "r.checkpoint.timeline")
	writeReport(t, rp, 100, map[string]any{"caller": map[string]any{"arn": hostile}, "region": "us-east-1"}, sampleRows)
	writeTimeline(t, tp, 60)
	page, d := render(t, Options{Report: rp, Timelines: []string{tp}, MaxRows: 8})
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("every section", func(t *testing.T) {
		for _, id := range []string{"summary", "outcomes", "rate", "throttles", "latency", "problems", "audit"} {
			if find(doc, func(n *html.Node) bool { return n.Data == "section" && attr(n, "id") == id }) == nil {
				t.Errorf("no section %q", id)
			}
		}
		if n := count(doc, func(n *html.Node) bool { return n.Data == "svg" && attr(n, "class") == "chart" }); n != 4 {
			t.Errorf("%d charts, want 4", n)
		}
		if n := count(doc, func(n *html.Node) bool { return n.Data == "line" && attr(n, "class") == "mark" }); n != 4 {
			t.Errorf("%d resume marks, want one per chart (4)", n)
		}
		if n := count(doc, func(n *html.Node) bool {
			return n.Data == "path" && attr(n, "class") == "series" && strings.Count(attr(n, "d"), "M") == 2
		}); n == 0 {
			t.Errorf("no series broken at the gap before the resume")
		}
	})
	t.Run("needs a person: last line wins, capped, row order", func(t *testing.T) {
		// Problems: row 3 (invalid), rows 10..90 by ten (failed), 96..100 (not_attempted); row 7 was disabled at last.
		if d.ProblemTotal != 1+9+5 || len(d.Problems) != 8 || d.More() != 7 {
			t.Fatalf("problems %d, kept %d, more %d", d.ProblemTotal, len(d.Problems), d.More())
		}
		var rows []string
		for _, r := range d.Problems {
			rows = append(rows, fmt.Sprint(r.Row))
		}
		if got := strings.Join(rows, ","); got != "3,10,20,30,40,50,60,70" {
			t.Fatalf("kept rows %s", got)
		}
		table := find(doc, func(n *html.Node) bool { return attr(n, "id") == "problem-table" })
		if n := count(table, func(n *html.Node) bool { return n.Data == "tr" }); n != 9 {
			t.Errorf("problem table has %d rows, want 8 and a header", n)
		}
		if !strings.Contains(text(find(doc, func(n *html.Node) bool { return attr(n, "id") == "more" })), "and 7 more") {
			t.Errorf("no 'and 7 more'")
		}
	})
	t.Run("nothing from the network", func(t *testing.T) {
		for _, n := range all(doc) {
			if n.Type != html.ElementNode {
				continue
			}
			switch n.Data {
			case "script", "link", "iframe", "object", "embed", "img", "image", "use", "foreignobject":
				t.Errorf("element <%s> on the page", n.Data)
			}
			for _, a := range n.Attr {
				if a.Key == "xmlns" {
					continue // a namespace name, never fetched
				}
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || strings.Contains(v, "://") || strings.HasPrefix(v, "//") || strings.Contains(v, "url(") {
					t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "style" && (strings.Contains(text(n), "url(") || strings.Contains(text(n), "@import")) {
				t.Errorf("style fetches: %s", text(n))
			}
		}
	})
	t.Run("escaped", func(t *testing.T) {
		if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
			t.Fatalf("report text reached the page as markup")
		}
		if !strings.Contains(text(doc), hostile) {
			t.Fatalf("the hostile text should be on the page as text")
		}
	})
	t.Run("well formed", func(t *testing.T) { checkBalanced(t, page) })
}

// checkBalanced walks the tokens: every element that is opened is closed,
// in order (void elements and self-closed SVG elements aside).
func checkBalanced(t *testing.T, page string) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true}
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			if len(stack) != 0 {
				t.Fatalf("unclosed elements at the end: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func TestLoad_MergedAndMissingTimeline(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "merged.report.ndjson")
	writeReport(t, rp, 20, map[string]any{"merged_from": []any{map[string]any{"path": "a"}, map[string]any{"path": "b"}}},
		func(int) []report.Record { return []report.Record{{Outcome: report.Deleted}} })
	a, b := filepath.Join(dir, "a.timeline"), filepath.Join(dir, "b.timeline")
	writeTimeline(t, a, 10)
	writeTimeline(t, b, 10)
	tests := []struct {
		name      string
		timelines []string
		sent      int
		notes     int
	}{
		{name: "two shards add up", timelines: []string{a, b}, sent: 2 * 2 * 10 * 38},
		{name: "one shard's timeline missing", timelines: []string{a, filepath.Join(dir, "nope")}, sent: 2 * 10 * 38, notes: 1},
		{name: "none", timelines: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, d := render(t, Options{Report: rp, Timelines: tc.timelines})
			if d.View.Totals.Sent != tc.sent || len(d.Notes) != tc.notes {
				t.Fatalf("sent %d notes %v", d.View.Totals.Sent, d.Notes)
			}
			if !strings.Contains(page, "from 2 shard reports") || !strings.Contains(page, `id="problems"`) {
				t.Fatalf("page lacks the merge or the sections")
			}
			var txt bytes.Buffer
			if err := WriteText(&txt, d); err != nil || !strings.Contains(txt.String(), "deleted") {
				t.Fatalf("text summary: %v\n%s", err, txt.String())
			}
		})
	}
}

// BenchmarkPage_MillionRows builds the page of a 1,000,000-row report
// (2% of rows failed, a tenth of those left out of the table) with a
// 12-hour timeline, and reports the heap it peaked at.
func BenchmarkPage_MillionRows(b *testing.B) {
	dir := b.TempDir()
	rp, tp := filepath.Join(dir, "m.report.ndjson"), filepath.Join(dir, "m.timeline")
	writeReport(b, rp, 1_000_000, map[string]any{"region": "us-east-1"}, func(row int) []report.Record {
		if row%50 == 0 {
			return []report.Record{{Outcome: report.Failed, Username: fmt.Sprintf("user%07d", row), ErrorCode: "InternalErrorException", Message: "retry InternalErrorException: status 500"}}
		}
		return []report.Record{{Outcome: report.Disabled, Username: fmt.Sprintf("user%07d", row), Attempts: 1, DurationMS: 40}}
	})
	writeTimeline(b, tp, 6*3600)
	fi, _ := os.Stat(rp)
	b.Logf("report: %.1f MB", float64(fi.Size())/1e6)
	var peak uint64
	for b.Loop() {
		d, err := Load(Options{Report: rp, Timelines: []string{tp}})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteHTML(io.Discard, d); err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	b.ReportMetric(float64(peak)/1e6, "MB-heap")
}

func all(n *html.Node) []*html.Node {
	out := []*html.Node{n}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, all(c)...)
	}
	return out
}

func find(n *html.Node, ok func(*html.Node) bool) *html.Node {
	for _, c := range all(n) {
		if c.Type == html.ElementNode && ok(c) {
			return c
		}
	}
	return nil
}

func count(n *html.Node, ok func(*html.Node) bool) int {
	k := 0
	for _, c := range all(n) {
		if c.Type == html.ElementNode && ok(c) {
			k++
		}
	}
	return k
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range all(n) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
