package input

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func usernameKey(r Row) string { return r.Username }

func TestScan_Summary(t *testing.T) {
	input := "\ufeffusername,email\r\n" +
		"alice,a@example.com\r\n" +
		"\r\n" +
		"bob,b@example.com\r\n" +
		"alice,again@example.com\r\n" +
		"O\"Brien,o@example.com\r\n" +
		",nobody@example.com\r\n" +
		",nobody@example.com\r\n" +
		"\"carol\"x,c@example.com\r\n" +
		"bob,b2@example.com\r\n"
	sum, err := Scan(context.Background(), strings.NewReader(input), CSV, usernameKey)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(input))
	if sum.SHA256 != hex.EncodeToString(digest[:]) {
		t.Errorf("SHA256 = %s, want the digest of the raw bytes", sum.SHA256)
	}
	if sum.Rows != 8 {
		t.Errorf("Rows = %d, want 8", sum.Rows)
	}
	if sum.Columns != (Columns{Username: true, Email: true}) {
		t.Errorf("Columns = %+v", sum.Columns)
	}
	if sum.FirstQuoteErrLine != 9 {
		t.Errorf("FirstQuoteErrLine = %d, want 9", sum.FirstQuoteErrLine)
	}
	// Empty keys never count, so only alice and bob repeat.
	if sum.Dups.Len() != 2 || !sum.Dups.Maybe("alice") || !sum.Dups.Maybe("bob") || sum.Dups.Maybe("carol") || sum.Dups.Maybe("") {
		t.Errorf("Dups = %v", sum.Dups.hashes)
	}
}

func TestScan_NDJSON(t *testing.T) {
	input := `{"username":"a"}` + "\n\n" + `{"username":"a"}` + "\n" + `{"sub":"x"}`
	sum, err := Scan(context.Background(), strings.NewReader(input), NDJSON, func(r Row) string { return r.ID() })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 3 || !sum.Dups.Maybe("a") || sum.Dups.Maybe("x") || sum.Columns != (Columns{Username: true, Sub: true}) {
		t.Errorf("summary = %+v", sum)
	}
}

// NDJSON lines are independent: a bad first line is one invalid row and
// the columns are those the valid lines carry.
func TestScan_NDJSONBadFirstLine(t *testing.T) {
	good := `{"username":"a"}` + "\n" + `{"username":"b"}` + "\n"
	tests := []struct {
		name  string
		first string
	}{
		{name: "not JSON", first: "not json"},
		{name: "username a number", first: `{"username":7}`},
		{name: "no known key", first: `{"note":"x"}`},
		{name: "over the line limit", first: `{"username":"` + strings.Repeat("x", 2<<20) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := Scan(context.Background(), strings.NewReader(tt.first+"\n"+good), NDJSON, usernameKey)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rows != 3 || sum.Columns != (Columns{Username: true}) {
				t.Errorf("Rows = %d, Columns = %+v; want 3 rows with a username column", sum.Rows, sum.Columns)
			}
		})
	}
}

func TestScan_Errors(t *testing.T) {
	boom := errors.New("read failed")
	tests := []struct {
		name string
		r    io.Reader
		f    Format
		want error
	}{
		{name: "no columns", r: strings.NewReader("name\nalice\n"), f: CSV, want: ErrNoColumns},
		{name: "read error", r: io.MultiReader(strings.NewReader("username\nalice\n"), iotest.ErrReader(boom)), f: CSV, want: boom},
		{name: "ndjson read error", r: io.MultiReader(strings.NewReader(`{"username":"a"}`+"\n"), iotest.ErrReader(boom)), f: NDJSON, want: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Scan(context.Background(), tt.r, tt.f, usernameKey); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestScan_SpillMatchesOracle checks that spilling sorted runs and merging
// them finds exactly the repeated hashes a map finds, whatever the run size.
func TestScan_SpillMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name     string
		rows     int
		distinct int
		runSize  int
	}{
		{name: "run of 1", rows: 300, distinct: 200, runSize: 1},
		{name: "tiny runs", rows: 5000, distinct: 4000, runSize: 7},
		{name: "many repeats", rows: 5000, distinct: 300, runSize: 64},
		{name: "no repeats", rows: 3000, distinct: 1 << 40, runSize: 100},
		{name: "exact multiple of run", rows: 4096, distinct: 3000, runSize: 512},
		{name: "one run in memory", rows: 4000, distinct: 3000, runSize: 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("username\n")
			count := map[string]int{}
			for range tc.rows {
				k := fmt.Sprintf("u%d", rng.Int64N(int64(tc.distinct)))
				count[k]++
				b.WriteString(k + "\n")
			}
			dir := t.TempDir()
			sum, err := ScanWithOptions(context.Background(), strings.NewReader(b.String()), CSV, usernameKey, ScanOptions{RunSize: tc.runSize, TempDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			var want []uint64
			for k, c := range count {
				if c > 1 {
					want = append(want, hash64(k))
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if !slices.Equal(sum.Dups.hashes, want) {
				t.Errorf("got %d repeated hashes, want %d", len(sum.Dups.hashes), len(want))
			}
			for k, c := range count {
				if sum.Dups.Maybe(k) != (c > 1) {
					t.Errorf("Maybe(%q) = %v, key occurs %d times", k, sum.Dups.Maybe(k), c)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("spill files left behind: %d", len(entries))
			}
		})
	}
}

func TestDupFinder_Spills(t *testing.T) {
	f := &dupFinder{runSize: 3, dir: t.TempDir()}
	defer f.close()
	for _, h := range []uint64{5, 1, 5, 9, 2, 9, 9, 7, 1, 3} {
		if err := f.add(h); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.runs) != 3 {
		t.Errorf("%d runs spilled, want 3", len(f.runs))
	}
	d, err := f.finish()
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 5, 9}; !slices.Equal(d.hashes, want) {
		t.Errorf("repeated = %v, want %v", d.hashes, want)
	}
}

func TestScan_UnwritableTempDir(t *testing.T) {
	input := "username\na\nb\nc\n"
	_, err := ScanWithOptions(context.Background(), strings.NewReader(input), CSV, usernameKey,
		ScanOptions{RunSize: 1, TempDir: "/nonexistent/cogsweep"})
	if err == nil {
		t.Fatal("Scan succeeded without a place to spill")
	}
}

func TestTracker(t *testing.T) {
	// "a" and "b" are both in the set, as if their hashes collided with a
	// repeated key: only an exact repeat is a duplicate.
	d := &DupSet{hashes: []uint64{hash64("a"), hash64("b")}}
	slices.Sort(d.hashes)
	tr := NewTracker(d)
	steps := []struct {
		key       string
		row       int
		wantFirst int
		wantDup   bool
	}{
		{"a", 1, 1, false},
		{"b", 2, 2, false},
		{"c", 3, 3, false},
		{"c", 4, 4, false}, // not in the set: never remembered, never a duplicate
		{"a", 5, 1, true},
		{"a", 6, 1, true},
		{"b", 7, 2, true},
		{"", 8, 8, false},
	}
	for _, s := range steps {
		first, dup := tr.See(s.key, s.row)
		if first != s.wantFirst || dup != s.wantDup {
			t.Errorf("See(%q, %d) = %d, %v; want %d, %v", s.key, s.row, first, dup, s.wantFirst, s.wantDup)
		}
	}
	if len(tr.first) != 2 {
		t.Errorf("tracker remembers %d keys, want 2", len(tr.first))
	}
}

func TestTracker_NilSet(t *testing.T) {
	tr := NewTracker(nil)
	tr.See("a", 1)
	if _, dup := tr.See("a", 2); dup {
		t.Error("a nil DupSet produced a duplicate")
	}
}

func TestScan_EndToEndWithTracker(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("username\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "u%d\n", i%600)
	}
	data := b.Bytes()
	sum, err := ScanWithOptions(context.Background(), bytes.NewReader(data), CSV, usernameKey, ScanOptions{RunSize: 50, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := Open(bytes.NewReader(data), CSV)
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTracker(sum.Dups)
	dups := 0
	for _, row := range readAll(t, rd) {
		first, dup := tr.See(row.Username, row.N)
		if dup {
			dups++
			if first != row.N-600 {
				t.Errorf("row %d: first = %d, want %d", row.N, first, row.N-600)
			}
		}
	}
	if dups != 400 {
		t.Errorf("%d duplicates, want 400", dups)
	}
}

// endless serves fill bytes forever (up to limit, so that a Scan that does
// not stop fails instead of hanging) and calls cancel once it has served
// after bytes.
type endless struct {
	fill          byte
	served, after int
	limit         int
	cancel        func()
}

func (e *endless) Read(p []byte) (int, error) {
	if e.served >= e.limit {
		return 0, io.EOF
	}
	p = p[:min(len(p), e.limit-e.served)]
	for i := range p {
		p[i] = e.fill
	}
	e.served += len(p)
	if e.served >= e.after {
		e.cancel()
	}
	return len(p), nil
}

func TestScan_StopsWhenCancelled(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		fill byte
	}{
		{name: "ndjson line with no newline", f: NDJSON, fill: 0},
		{name: "ndjson blank lines only", f: NDJSON, fill: '\n'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &endless{fill: tt.fill, after: 8 << 20, limit: 64 << 20, cancel: cancel}
			_, err := Scan(ctx, r, tt.f, usernameKey)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if r.served >= r.limit {
				t.Errorf("read all %d bytes after the cancel at %d", r.served, r.after)
			}
		})
	}
}
