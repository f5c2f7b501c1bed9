package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScan(t *testing.T) {
	hdr := `{"kind":"header","schema_version":1,"tool":"cogsweep","action":"disable","rows":3,"started_at":"2025-01-01T00:00:00Z"}`
	type got struct {
		Row       int
		Outcome   Outcome
		Transient bool
	}
	tests := []struct {
		name    string
		content string
		want    []got
		stats   ScanStats
	}{
		{name: "own encoding", content: hdr + "\n" +
			`{"row":1,"outcome":"failed","transient":true,"action":"disable","attempts":3,"duration_ms":1,"at":"2025-01-01T00:00:00Z"}` + "\n" +
			`{"row":2,"outcome":"disabled","action":"disable","attempts":1,"duration_ms":1,"at":"2025-01-01T00:00:00Z"}` + "\n",
			want:  []got{{1, Failed, true}, {2, Disabled, false}},
			stats: ScanStats{Lines: 2}},
		{name: "foreign encodings fall back to encoding/json", content: hdr + "\n" +
			`{"outcome":"deleted","row":3}` + "\n" +
			` {"row":1,"outcome":"failed","transient":true}` + "\n" +
			`{"row":2,"outcome":"would_\u0064elete","transient":false,"action":"x"}` + "\n" +
			`{"row":2,"outcome":"failed","transient":false,"action":"x"}` + "\n",
			want:  []got{{3, Deleted, false}, {1, Failed, true}, {2, "would_delete", false}, {2, Failed, false}},
			stats: ScanStats{Lines: 4}},
		{name: "garbage skipped and counted", content: hdr + "\n" + "garbage\n\n{}\n" +
			`{"row":0,"outcome":"deleted","action":"x"}` + "\n" +
			`{"row":1,"outcome":"","action":"x"}` + "\n" +
			`{"row":1,"outcome":"deleted","action":"x"` + "\n" +
			`{"row":1.5,"outcome":"deleted"}` + "\n" +
			`{"row":2,"outcome":"deleted","action":"x"}` + "\n",
			want:  []got{{2, Deleted, false}},
			stats: ScanStats{Lines: 1, Skipped: 7}},
		{name: "torn tail ignored", content: hdr + "\n" + `{"row":2,"outcome":"deleted","action":"x"}` + "\n" + `{"row":3,"outcome":"del`,
			want:  []got{{2, Deleted, false}},
			stats: ScanStats{Lines: 1, Torn: true}},
		{name: "no header", content: `{"row":2,"outcome":"deleted","action":"x"}` + "\n",
			want:  []got{{2, Deleted, false}},
			stats: ScanStats{Lines: 1}},
		{name: "header later is garbage", content: `{"row":2,"outcome":"deleted","action":"x"}` + "\n" + hdr + "\n",
			want:  []got{{2, Deleted, false}},
			stats: ScanStats{Lines: 1, Skipped: 1}},
		{name: "empty", content: "", stats: ScanStats{}},
		{name: "only torn header", content: `{"kind":"hea`, stats: ScanStats{Torn: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			var lines []got
			st, err := Scan(path, func(l Line) error {
				if tt.content[l.Offset:int(l.Offset)+len(l.Raw)] != string(l.Raw) {
					t.Errorf("Offset %d does not point at the line", l.Offset)
				}
				lines = append(lines, got{l.Row, l.Outcome, l.Transient})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.stats {
				t.Errorf("stats = %+v, want %+v", st, tt.stats)
			}
			if len(lines) != len(tt.want) {
				t.Fatalf("lines = %+v, want %+v", lines, tt.want)
			}
			for i := range lines {
				if lines[i] != tt.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, lines[i], tt.want[i])
				}
			}
		})
	}
}

func TestScan_CallbackErrorStops(t *testing.T) {
	path := writeFile(t, "{\"row\":1,\"outcome\":\"deleted\",\"action\":\"x\"}\n{\"row\":2,\"outcome\":\"deleted\",\"action\":\"x\"}\n")
	stop := errors.New("stop")
	n := 0
	_, err := Scan(path, func(Line) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err = %v after %d lines, want stop after 1", err, n)
	}
}

func TestScan_MissingFile(t *testing.T) {
	if _, err := Scan(filepath.Join(t.TempDir(), "none"), func(Line) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not exist", err)
	}
}

// The fast path must agree with encoding/json on everything AppendRecord
// writes.
func TestParseFast_AgreesWithJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := newInterner()
	fast := 0
	for range 5000 {
		r := randomRecord(rng)
		r.Row = rng.IntN(1<<20) - 10
		if rng.IntN(2) == 0 {
			r.Outcome = []Outcome{Disabled, Failed, NotAttempted, "would_disable"}[rng.IntN(4)]
		}
		if !ValidTime(r.At) {
			r.At = time.Time{}
		}
		raw := AppendRecord(nil, &r)
		row, o, tr, ok := parseLine(raw, in)
		var want struct {
			Row       int     `json:"row"`
			Outcome   Outcome `json:"outcome"`
			Transient bool    `json:"transient"`
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		wantOK := want.Row >= 1 && want.Outcome != ""
		if ok != wantOK {
			t.Fatalf("%s: ok = %v, want %v", raw, ok, wantOK)
		}
		if ok && (row != want.Row || o != want.Outcome || tr != want.Transient) {
			t.Fatalf("%s: got %d %q %v, want %+v", raw, row, o, tr, want)
		}
		if _, _, _, f := parseFast(raw, in); f {
			fast++
		}
	}
	if fast < 1000 {
		t.Fatalf("fast path taken only %d times: it is not being exercised", fast)
	}
}

func TestScan_KnownOutcomesDoNotAllocate(t *testing.T) {
	in := newInterner()
	raw := []byte(`{"row":12,"outcome":"already_disabled","action":"disable","attempts":1,"duration_ms":2,"at":"2025-01-01T00:00:00Z"}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, o, _, ok := parseLine(raw, in); !ok || o != AlreadyDisabled {
			t.Fatal("parse failed")
		}
	})
	if allocs != 0 {
		t.Fatalf("parseLine allocated %v times", allocs)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"kind":"header"}` + "\n" + `{"row":1,"outcome":"deleted","action":"x"}` + "\n"))
	f.Add([]byte(`{"row":1,"outcome":"failed","transient":true,"action":"x"}` + "\n" + `{"row":2,"outc`))
	f.Add([]byte("\n\n{}\n{\"row\":99999999999999999999,\"outcome\":\"x\",\"action\":\"\"}\n"))
	f.Add([]byte(`{"row":1,"outcome":"a\u0062","transient":true}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "r")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		lines := 0
		st, err := Scan(path, func(l Line) error {
			lines++
			if l.Row < 1 || l.Outcome == "" {
				t.Fatalf("bad line passed on: %+v", l)
			}
			if !bytes.Equal(data[l.Offset:int(l.Offset)+len(l.Raw)], l.Raw) {
				t.Fatalf("offset %d does not point at the line", l.Offset)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		complete := bytes.Count(data, []byte("\n"))
		header := 0
		if i := bytes.IndexByte(data, '\n'); i >= 0 && isHeaderLine(data[:i]) {
			header = 1
		}
		if st.Lines != lines || st.Lines+st.Skipped+header != complete {
			t.Fatalf("stats %+v with %d complete lines (header %d)", st, complete, header)
		}
		if st.Torn != (len(data) > 0 && data[len(data)-1] != '\n') {
			t.Fatalf("Torn = %v", st.Torn)
		}
		// Count and Compact must cope with the same bytes.
		if _, _, err := Count(path); err != nil && !errors.Is(err, ErrNoHeader) {
			t.Fatalf("Count: %v", err)
		}
		if _, err := Compact(path, 5); err != nil && !errors.Is(err, ErrNoHeader) {
			t.Fatalf("Compact: %v", err)
		}
		if strings.Contains(string(data), "\n") && st.Lines == 0 && st.Skipped == 0 && header == 0 {
			t.Fatal("a complete line went nowhere")
		}
	})
}

func BenchmarkScan(b *testing.B) {
	path := filepath.Join(b.TempDir(), "report.ndjson")
	const n = 100_000
	writeBenchReport(b, path, n, n)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		lines := 0
		if _, err := Scan(path, func(Line) error { lines++; return nil }); err != nil {
			b.Fatal(err)
		}
		if lines != n {
			b.Fatalf("scanned %d lines, want %d", lines, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}

// writeBenchReport writes a report of lines records over rows rows, each row
// written lines/rows times.
func writeBenchReport(b *testing.B, path string, lines, rows int) {
	b.Helper()
	w, err := OpenWriter(path, Header{Action: "disable", Rows: rows})
	if err != nil {
		b.Fatal(err)
	}
	r := Record{Outcome: Disabled, Action: "disable", Username: "user@example.com", UserPoolID: "us-east-1_AbCdEf123",
		Attempts: 1, DurationMS: 31, At: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)}
	for i := range lines {
		r.Row = i%rows + 1
		r.Transient = i%7 == 0
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
