package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

const fixtures = "../../fixtures/report"

// copyFixture copies fixtures/report/<name>/report.ndjson into a temp dir.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name, "report.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.ndjson")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompact_Fixtures(t *testing.T) {
	tests := []struct {
		name      string
		rows      int
		want      CompactResult // Have is compared through haveRows
		haveRows  []int
		rewritten bool
		wantErr   error
	}{
		{name: "last_wins", rows: 5, haveRows: []int{1, 2, 3}, rewritten: true,
			want: CompactResult{Counts: map[Outcome]int{Disabled: 2, AlreadyDisabled: 1}, Lines: 5, Kept: 3, Dropped: 2}},
		{name: "torn_tail", rows: 5, haveRows: []int{1, 2},
			want: CompactResult{Counts: map[Outcome]int{Disabled: 2}, Lines: 2, Kept: 2, Torn: true}},
		{name: "out_of_range", rows: 5, haveRows: []int{5}, rewritten: true,
			want: CompactResult{Counts: map[Outcome]int{NotFound: 1}, Lines: 5, Kept: 1, Dropped: 4,
				Corrupt: fsutil.BadLines{Count: 3, First: []int{2, 4, 6}}}}, // row 6 is only out of range
		{name: "header_only", rows: 5,
			want: CompactResult{Counts: map[Outcome]int{}}},
		{name: "garbage", rows: 5, haveRows: []int{2, 4}, rewritten: true,
			want: CompactResult{Counts: map[Outcome]int{Protected: 1, Deleted: 1}, Lines: 7, Kept: 2, Dropped: 5,
				Corrupt: fsutil.BadLines{Count: 5, First: []int{2, 4, 5, 6, 8}}}},
		{name: "already_compact", rows: 5, haveRows: []int{1, 2, 3},
			want: CompactResult{Counts: map[Outcome]int{Disabled: 2, AlreadyDisabled: 1}, Lines: 3, Kept: 3}},
		{name: "torn_header", rows: 5, want: CompactResult{Counts: map[Outcome]int{}, Torn: true}},
		{name: "empty", rows: 5, want: CompactResult{Counts: map[Outcome]int{}}},
		{name: "not_a_report", rows: 5, wantErr: ErrNoHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFixture(t, tt.name)
			before, _ := os.Stat(path)
			orig, _ := os.ReadFile(path)
			res, err := Compact(path, tt.rows)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
					t.Fatal("a refused file was modified")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(fixtures, tt.name, "want.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, want) {
				t.Errorf("file after Compact:\n%s\nwant:\n%s", got, want)
			}
			if rows := bitsetRows(res.Have); !reflect.DeepEqual(rows, tt.haveRows) {
				t.Errorf("Have = %v, want %v", rows, tt.haveRows)
			}
			res.Have = nil
			if !reflect.DeepEqual(res, tt.want) {
				t.Errorf("result = %+v, want %+v", res, tt.want)
			}
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if os.SameFile(before, after) == tt.rewritten {
				t.Errorf("rewritten = %v, want %v", !os.SameFile(before, after), tt.rewritten)
			}
			if after.Mode().Perm() != 0o600 {
				t.Errorf("mode = %v, want 0600", after.Mode().Perm())
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("temp files left behind: %v", entries)
			}
			// Compacting again changes nothing.
			res2, err := Compact(path, tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(path); !bytes.Equal(again, got) || res2.Dropped != 0 || res2.Kept != tt.want.Kept {
				t.Errorf("second Compact changed the file or found drops: %+v", res2)
			}
		})
	}
}

func bitsetRows(b *Bitset) []int {
	var rows []int
	for i := range b.Len() {
		if b.Has(i) {
			rows = append(rows, i)
		}
	}
	return rows
}

func TestCompact_LongLine(t *testing.T) {
	long := strings.Repeat("é", backChunk) // longer than the backward read chunk
	var b strings.Builder
	b.WriteString(`{"kind":"header","rows":3}` + "\n")
	for i, r := range []Record{
		{Row: 1, Outcome: Failed, Message: long},
		{Row: 2, Outcome: Disabled},
		{Row: 1, Outcome: Deleted, Message: long + "x"},
		{Row: 3, Outcome: Invalid, Message: long},
	} {
		r.At = time.Unix(int64(i), 0).UTC()
		b.Write(AppendRecord(nil, &r))
		b.WriteByte('\n')
	}
	path := writeFile(t, b.String())
	res, err := Compact(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 3 || res.Dropped != 1 || res.Counts[Deleted] != 1 || res.Counts[Failed] != 0 {
		t.Fatalf("result = %+v", res)
	}
	var msgs []int
	if _, err := Scan(path, func(l Line) error { msgs = append(msgs, len(l.Raw)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("lines after compact: %v", msgs)
	}
}

func TestScanBackward_MatchesForward(t *testing.T) {
	content := "a\nbb\n\nccc\n" + strings.Repeat("d", 50) + "\ne\n"
	var want []string
	for _, l := range strings.SplitAfter(content, "\n") {
		if l != "" {
			want = append(want, strings.TrimSuffix(l, "\n"))
		}
	}
	for chunk := 1; chunk <= 12; chunk++ {
		t.Run(fmt.Sprint("chunk", chunk), func(t *testing.T) {
			var got []string
			err := scanBackward(strings.NewReader(content), 0, int64(len(content)), chunk, func(line []byte, off int64) error {
				if content[off:off+int64(len(line))] != string(line) {
					t.Errorf("offset %d wrong for %q", off, line)
				}
				got = append([]string{string(line)}, got...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestScanBackward_ReadError(t *testing.T) {
	err := scanBackward(failingReaderAt{}, 0, 10, 4, func([]byte, int64) error { return nil })
	if err == nil {
		t.Fatal("want the read error")
	}
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestLoad(t *testing.T) {
	hdr := `{"kind":"header","rows":8}` + "\n"
	lines := []Record{
		{Row: 1, Outcome: Disabled},
		{Row: 2, Outcome: Failed, Transient: true},
		{Row: 3, Outcome: Failed},
		{Row: 4, Outcome: NotAttempted},
		{Row: 5, Outcome: SkippedTooRecent},
		{Row: 6, Outcome: SkippedNotDisabled},
		{Row: 7, Outcome: Invalid},
		{Row: 7, Outcome: Failed, Transient: true}, // last wins: unsettled
		{Row: 1, Outcome: AlreadyDisabled},
	}
	var b strings.Builder
	b.WriteString(hdr)
	for _, r := range lines {
		b.Write(AppendRecord(nil, &r))
		b.WriteByte('\n')
	}
	tests := []struct {
		name        string
		retryFailed bool
		settled     []int
	}{
		{name: "default", settled: []int{1, 3}},
		{name: "retry failed", retryFailed: true, settled: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, b.String())
			st, err := Load(path, 8, tt.retryFailed)
			if err != nil {
				t.Fatal(err)
			}
			if got := bitsetRows(st.Settled); !reflect.DeepEqual(got, tt.settled) {
				t.Errorf("Settled = %v, want %v", got, tt.settled)
			}
			if got := bitsetRows(st.Have); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 5, 6, 7}) {
				t.Errorf("Have = %v", got)
			}
			if st.Dropped != 2 || st.Counts[Failed] != 3 || st.Counts[AlreadyDisabled] != 1 || st.Counts[Disabled] != 0 {
				t.Errorf("state = %+v", st)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none"), 3, false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want not exist", err)
	}
}

func TestCount(t *testing.T) {
	path := copyFixture(t, "last_wins")
	before, _ := os.ReadFile(path)
	counts, have, err := Count(path)
	if err != nil {
		t.Fatal(err)
	}
	if have != 3 || !reflect.DeepEqual(counts, map[Outcome]int{Disabled: 2, AlreadyDisabled: 1}) {
		t.Errorf("Count = %v, %d", counts, have)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Count modified the file")
	}
	// Rows beyond the header's total are not counted.
	path = copyFixture(t, "out_of_range")
	if counts, have, err := Count(path); err != nil || have != 1 || counts[NotFound] != 1 {
		t.Errorf("out of range: %v %d %v", counts, have, err)
	}
	if _, _, err := Count(copyFixture(t, "not_a_report")); !errors.Is(err, ErrNoHeader) {
		t.Errorf("not a report: err = %v", err)
	}
	if c, n, err := Count(copyFixture(t, "torn_header")); err != nil || n != 0 || len(c) != 0 {
		t.Errorf("torn header: %v %d %v", c, n, err)
	}
}

func TestBitset(t *testing.T) {
	b := NewBitset(130)
	for _, i := range []int{0, 1, 63, 64, 127, 129, 64} {
		b.Set(i)
	}
	if b.Count() != 6 || !b.Has(64) || b.Has(65) || b.Has(130) || b.Has(-1) || b.Len() != 130 {
		t.Fatalf("bitset wrong: count %d", b.Count())
	}
	var nilSet *Bitset
	if nilSet.Has(1) || nilSet.Count() != 0 || nilSet.Len() != 0 {
		t.Fatal("nil set must be empty")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Set out of range must panic")
		}
	}()
	b.Set(130)
}

func BenchmarkCompact(b *testing.B) {
	const lines, rows = 1_000_000, 600_000
	dir := b.TempDir()
	src := filepath.Join(dir, "src.ndjson")
	writeBenchReport(b, src, lines, rows)
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "report.ndjson")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := Compact(path, rows)
		if err != nil {
			b.Fatal(err)
		}
		if res.Kept != rows || res.Dropped != lines-rows {
			b.Fatalf("result %+v", res)
		}
	}
}

// Load lists the corrupt lines it removed by number, first ones first, for
// the one warning a resume gives; a torn JSON prefix (a kill mid-append) is
// not among them, a tail of zeros or garbage is.
func TestLoad_CorruptLines(t *testing.T) {
	rec := func(row int) string {
		return string(AppendRecord(nil, &Record{Row: row, Outcome: Disabled, Action: "disable", Username: fmt.Sprint("u", row),
			At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)})) + "\n"
	}
	var many strings.Builder
	for i := 1; i <= 14; i++ {
		many.WriteString(rec(i%5 + 1))
		many.WriteString("{garbage\n")
	}
	tests := []struct {
		name    string
		records string // after the header
		want    fsutil.BadLines
		torn    bool
	}{
		{name: "clean", records: rec(1) + rec(2)},
		{name: "torn last append is no corruption", records: rec(1) + `{"row":2,"outc`, torn: true},
		{name: "middle line", records: rec(1) + "not json\n" + rec(2), want: fsutil.BadLines{Count: 1, First: []int{3}}},
		{name: "zeros appended", records: rec(1) + rec(2) + strings.Repeat("\x00", 5000), torn: true,
			want: fsutil.BadLines{Count: 1, First: []int{4}}},
		{name: "middle line and zeros appended", records: rec(1) + "\x00\x00\x00\n" + rec(2) + "\x00\x00", torn: true,
			want: fsutil.BadLines{Count: 2, First: []int{3, 5}}},
		{name: "more than listed: the first ones", records: many.String(),
			want: fsutil.BadLines{Count: 14, First: []int{3, 5, 7, 9, 11, 13, 15, 17, 19, 21}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.report.ndjson")
			w, err := OpenWriter(path, testHeader())
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tc.records); err != nil {
				t.Fatal(err)
			}
			f.Close()
			st, err := Load(path, 10, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(st.Corrupt, tc.want) || st.Torn != tc.torn {
				t.Fatalf("corrupt %+v torn %v, want %+v torn %v", st.Corrupt, st.Torn, tc.want, tc.torn)
			}
			// The lines are gone: a second resume has nothing to say.
			if st, err := Load(path, 10, false); err != nil || st.Corrupt.Count != 0 || st.Torn {
				t.Fatalf("second Load: corrupt %+v torn %v (%v)", st.Corrupt, st.Torn, err)
			}
		})
	}
}
