package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func testHeader() Header {
	return Header{Tool: "cogsweep", Action: "disable", Input: "users.csv", Rows: 10,
		StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func TestOpenWriter_NewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	w, err := OpenWriter(path, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Row: 1, Outcome: Disabled, Action: "disable", Username: "alice", At: time.Now()}
	if err := w.Write(&rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	h, err := ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.Kind != HeaderKind || h.SchemaVersion != SchemaVersion || h.Action != "disable" || h.Rows != 10 {
		t.Errorf("header = %+v", h)
	}
	lines := readLines(t, path)
	if len(lines) != 2 || lines[1] != string(AppendRecord(nil, &rec)) {
		t.Fatalf("lines = %q", lines)
	}
}

func TestOpenWriter_AppendsWithoutSecondHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	for i := 1; i <= 3; i++ {
		h := testHeader()
		h.Action = fmt.Sprint("run", i) // only the first header is written
		w, err := OpenWriter(path, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&Record{Row: i, Outcome: Deleted}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	lines := readLines(t, path)
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4: %q", len(lines), lines)
	}
	h, err := ReadHeader(path)
	if err != nil || h.Action != "run1" {
		t.Fatalf("header = %+v, %v; want the first run's", h, err)
	}
}

func TestOpenWriter_Existing(t *testing.T) {
	hdr, _ := json.Marshal(Header{Kind: HeaderKind, SchemaVersion: 1, Action: "delete"})
	rec := `{"row":1,"outcome":"deleted","action":"delete","attempts":1,"duration_ms":1,"at":"2025-01-01T00:00:00Z"}`
	tests := []struct {
		name    string
		content string
		want    []string // lines after opening and writing row 2
		wantErr error
	}{
		{name: "torn tail cut", content: string(hdr) + "\n" + rec + "\n" + `{"row":2,"outc`,
			want: []string{string(hdr), rec, "row2"}},
		{name: "torn header rewritten", content: `{"kind":"head`, want: []string{"header", "row2"}},
		{name: "empty file gets header", content: "", want: []string{"header", "row2"}},
		{name: "not a report", content: "username\nalice\n", wantErr: ErrNoHeader},
		{name: "record first", content: rec + "\n", wantErr: ErrNoHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.ndjson")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			w, err := OpenWriter(path, Header{Action: "delete"})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				data, _ := os.ReadFile(path)
				if string(data) != tt.content {
					t.Fatalf("refused file was modified: %q", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r2 := Record{Row: 2, Outcome: Deleted, Action: "delete"}
			if err := w.Write(&r2); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := readLines(t, path)
			if len(got) != len(tt.want) {
				t.Fatalf("lines = %q, want %d lines", got, len(tt.want))
			}
			for i, w := range tt.want {
				switch w {
				case "header":
					if !isHeaderLine([]byte(got[i])) {
						t.Errorf("line %d = %q, want a header", i, got[i])
					}
				case "row2":
					if got[i] != string(AppendRecord(nil, &r2)) {
						t.Errorf("line %d = %q, want row 2", i, got[i])
					}
				default:
					if got[i] != w {
						t.Errorf("line %d = %q, want %q", i, got[i], w)
					}
				}
			}
		})
	}
}

func TestWriter_ConcurrentWritesStayWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	w, err := OpenWriter(path, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				r := Record{Row: g*each + i + 1, Outcome: Disabled, Message: string(bytes.Repeat([]byte{'x'}, i)), At: time.Now()}
				if err := w.Write(&r); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := w.Sync(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	if _, err := Scan(path, func(l Line) error {
		var r Record
		if err := json.Unmarshal(l.Raw, &r); err != nil {
			return fmt.Errorf("line at %d: %w", l.Offset, err)
		}
		seen[r.Row] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != workers*each {
		t.Fatalf("got %d distinct rows, want %d", len(seen), workers*each)
	}
}

func TestWriter_Errors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	w, err := OpenWriter(path, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{Row: 1, At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("Write accepted a time encoding/json refuses")
	}
	if err := w.Write(&Record{Row: 1, Outcome: Deleted}); err != nil {
		t.Fatalf("a refused record must not poison the writer: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := w.Write(&Record{Row: 2}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestOpenWriter_BadDir(t *testing.T) {
	_, err := OpenWriter(filepath.Join(t.TempDir(), "missing", "r.ndjson"), testHeader())
	if err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

func BenchmarkWriter(b *testing.B) {
	path := filepath.Join(b.TempDir(), "report.ndjson")
	w, err := OpenWriter(path, testHeader())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	r := Record{Row: 1, Outcome: Disabled, Action: "disable", Username: "alice@example.com",
		UserPoolID: "us-east-1_AbCdEf123", Attempts: 1, DurationMS: 31, RequestID: "4f1c0d6e-8b1a-4e0b-9c55-2a7d7c3c9b11",
		At: time.Now()}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Row = i + 1
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
}
