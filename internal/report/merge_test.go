package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const mergeFixtures = "../../fixtures/merge"

// mergedLines reads a merged report: its header and its record lines in
// file order.
func mergedLines(t *testing.T, path string) (Header, []Record) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var h Header
	var recs []Record
	for first := true; sc.Scan(); first = false {
		if first {
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Kind != HeaderKind {
				t.Fatalf("merged header %q: %v", sc.Text(), err)
			}
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("merged line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h, recs
}

func fixtureReports(t *testing.T, name string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(mergeFixtures, name, "*.ndjson"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return paths
}

func TestMerge_Fixtures(t *testing.T) {
	tests := []struct {
		name          string
		wantRows      []int // rows of the output, in order
		wantOutcomes  []Outcome
		wantMissing   []int
		wantShardsGap []int
		wantRefused   string // substring of the refusal
	}{
		{name: "complete", wantRows: []int{1, 2, 3, 4, 5, 6},
			wantOutcomes: []Outcome{Disabled, AlreadyDisabled, Invalid, Disabled, Disabled, NotFound}},
		// Row 6: the later line (disabled, after a resume) wins over the
		// transient failure; the torn row 2 does not count.
		{name: "killed", wantRows: []int{1, 3, 4, 5, 6},
			wantOutcomes: []Outcome{Disabled, Disabled, Disabled, Disabled, Disabled}, wantMissing: []int{2}},
		{name: "missing_shard", wantRows: []int{1, 3, 4, 5},
			wantOutcomes: []Outcome{Disabled, Disabled, Disabled, Disabled}, wantMissing: []int{2, 6}, wantShardsGap: []int{1}},
		{name: "different_job", wantRefused: "not shards of one job"},
		{name: "duplicate_row", wantRefused: "row 2 is in both"},
		{name: "same_shard_twice", wantRefused: "are both shard 0/2"},
		{name: "shard_counts_differ", wantRefused: "different numbers of shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged.ndjson")
			res, err := Merge(out, fixtureReports(t, tt.name), MergeOptions{})
			if tt.wantRefused != "" {
				if !errors.Is(err, ErrMergeRefused) || !strings.Contains(err.Error(), tt.wantRefused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.wantRefused)
				}
				if _, statErr := os.Stat(out); !errors.Is(statErr, os.ErrNotExist) {
					t.Errorf("a refused merge wrote %s", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h, recs := mergedLines(t, out)
			var rows []int
			var outs []Outcome
			for _, r := range recs {
				rows = append(rows, r.Row)
				outs = append(outs, r.Outcome)
			}
			if !slices.Equal(rows, tt.wantRows) || !slices.Equal(outs, tt.wantOutcomes) {
				t.Errorf("rows %v outcomes %v, want %v %v", rows, outs, tt.wantRows, tt.wantOutcomes)
			}
			if res.Missing != len(tt.wantMissing) || !slices.Equal(res.FirstMissing, tt.wantMissing) {
				t.Errorf("missing %d %v, want %v", res.Missing, res.FirstMissing, tt.wantMissing)
			}
			if !slices.Equal(res.MissingShards, tt.wantShardsGap) {
				t.Errorf("missing shards %v, want %v", res.MissingShards, tt.wantShardsGap)
			}
			if h.Shard != "" || h.JobFingerprint != "" || h.Fingerprint != "jobA" || h.Rows != 6 {
				t.Errorf("merged header shard %q job %q fingerprint %q rows %d: want the job's fingerprint and no shard",
					h.Shard, h.JobFingerprint, h.Fingerprint, h.Rows)
			}
			if want := time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC); !h.StartedAt.Equal(want) {
				t.Errorf("started_at %s, want the earliest shard's %s", h.StartedAt, want)
			}
			if from, _ := h.Audit["merged_from"].([]any); len(from) != len(fixtureReports(t, tt.name)) {
				t.Errorf("audit merged_from = %v", h.Audit["merged_from"])
			}
			sum := 0
			for _, n := range res.Counts {
				sum += n
			}
			if sum != len(recs) || res.Kept != len(recs) {
				t.Errorf("counts %v (sum %d), kept %d, want %d lines", res.Counts, sum, res.Kept, len(recs))
			}
			// The merged report is a report: Compact keeps every line.
			c, err := Compact(out, h.Rows)
			if err != nil || c.Kept != len(recs) || c.Dropped != 0 {
				t.Errorf("Compact of the merged report: %+v %v", c, err)
			}
		})
	}
}

func TestMerge_RefusesNonReportAndOutputAsInput(t *testing.T) {
	paths := fixtureReports(t, "not_a_report")
	out := filepath.Join(t.TempDir(), "merged.ndjson")
	if _, err := Merge(out, paths, MergeOptions{}); !errors.Is(err, ErrNoHeader) {
		t.Errorf("merging a non-report: err = %v, want ErrNoHeader", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "shard-0.ndjson")
	data, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(in, []string{in}, MergeOptions{}); !errors.Is(err, ErrMergeRefused) {
		t.Errorf("output = input: err = %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(in); string(got) != string(data) {
		t.Error("the input was changed")
	}
}

// writeShardReports writes n shard reports of rows rows in random order,
// each row in the shard row%n, with some rows written twice (a resume: the
// last line wins). It returns the paths and the outcome each row must end
// with.
func writeShardReports(t *testing.T, dir string, rows, n int, rng *rand.Rand) ([]string, map[int]Outcome) {
	t.Helper()
	want := map[int]Outcome{}
	paths := make([]string, n)
	for s := range n {
		var mine []int
		for r := 1; r <= rows; r++ {
			if r%n == s {
				mine = append(mine, r)
			}
		}
		rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		h := Header{Kind: HeaderKind, SchemaVersion: SchemaVersion, Tool: "cogsweep", Action: "delete", Rows: rows,
			Fingerprint: fmt.Sprintf("shard%d", s), JobFingerprint: "job", Shard: fmt.Sprintf("%d/%d", s, n), StartedAt: time.Unix(1700000000, 0).UTC()}
		paths[s] = filepath.Join(dir, fmt.Sprintf("shard-%d.ndjson", s))
		w, err := OpenWriter(paths[s], h)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(1700000000, 0).UTC()
		var redo []int
		for _, r := range mine {
			o := Deleted
			if rng.IntN(10) == 0 {
				o = Failed
				redo = append(redo, r)
			}
			rec := Record{Row: r, Outcome: o, Transient: o == Failed, Action: "delete", Username: fmt.Sprintf("user-%07d", r), At: at}
			if err := w.Write(&rec); err != nil {
				t.Fatal(err)
			}
			want[r] = o
		}
		for _, r := range redo {
			rec := Record{Row: r, Outcome: NotFound, Action: "delete", Username: fmt.Sprintf("user-%07d", r), At: at}
			if err := w.Write(&rec); err != nil {
				t.Fatal(err)
			}
			want[r] = NotFound
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return paths, want
}

// TestMerge_SpillsAndAgreesWithInMemory forces the external sort (tiny
// chunks: many sorted runs on disk) and checks it gives the same file as the
// in-memory sort, with every row once, in order, the last line winning.
func TestMerge_SpillsAndAgreesWithInMemory(t *testing.T) {
	const rows, shards = 5000, 4
	dir := t.TempDir()
	paths, want := writeShardReports(t, dir, rows, shards, rand.New(rand.NewPCG(1, 2)))

	tests := []struct {
		name      string
		chunk     int
		wantSpill bool
	}{
		{name: "in memory", chunk: 0},
		{name: "spilled in 4 KiB runs", chunk: 4 << 10, wantSpill: true},
	}
	var outputs []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".merged.ndjson")
			tmp := t.TempDir()
			res, err := Merge(out, paths, MergeOptions{ChunkBytes: tt.chunk, TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			if (res.Spilled > 1) != tt.wantSpill {
				t.Errorf("spilled %d runs, want spilling %v", res.Spilled, tt.wantSpill)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("spill files left behind: %v", left)
			}
			if res.Missing != 0 || res.Kept != rows {
				t.Fatalf("kept %d missing %d, want %d and 0", res.Kept, res.Missing, rows)
			}
			_, recs := mergedLines(t, out)
			if len(recs) != rows {
				t.Fatalf("%d lines, want %d", len(recs), rows)
			}
			for i, r := range recs {
				if r.Row != i+1 || r.Outcome != want[r.Row] {
					t.Fatalf("line %d: row %d %s, want row %d %s", i+1, r.Row, r.Outcome, i+1, want[i+1])
				}
			}
			data, _ := os.ReadFile(out)
			outputs = append(outputs, string(data))
		})
	}
	if len(outputs) == 2 && outputs[0] != outputs[1] {
		t.Error("the spilled merge differs from the in-memory one")
	}
}

// BenchmarkMerge merges 8 shard reports of 1,000,000 rows in all, in
// random order, with 16 MiB chunks (so the external sort spills).
func BenchmarkMerge(b *testing.B) {
	const rows, shards = 1_000_000, 8
	dir := b.TempDir()
	paths := make([]string, shards)
	rng := rand.New(rand.NewPCG(3, 4))
	perm := rng.Perm(rows)
	ws := make([]*Writer, shards)
	for s := range shards {
		paths[s] = filepath.Join(dir, fmt.Sprintf("shard-%d.ndjson", s))
		w, err := OpenWriter(paths[s], Header{Kind: HeaderKind, Action: "delete", Rows: rows, JobFingerprint: "job",
			Fingerprint: fmt.Sprint(s), Shard: fmt.Sprintf("%d/%d", s, shards), StartedAt: time.Unix(1700000000, 0).UTC()})
		if err != nil {
			b.Fatal(err)
		}
		ws[s] = w
	}
	at := time.Unix(1700000000, 0).UTC()
	for _, p := range perm {
		r := p + 1
		rec := Record{Row: r, Outcome: Deleted, Action: "delete", Username: fmt.Sprintf("user-%07d", r), UserPoolID: "us-east-1_AbC123", Attempts: 1, At: at}
		if err := ws[r%shards].Write(&rec); err != nil {
			b.Fatal(err)
		}
	}
	for _, w := range ws {
		w.Close()
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Merge(filepath.Join(dir, "merged.ndjson"), paths, MergeOptions{ChunkBytes: 16 << 20, TempDir: dir})
		if err != nil || res.Kept != rows {
			b.Fatalf("%+v %v", res, err)
		}
		b.ReportMetric(float64(res.Spilled), "runs")
	}
}
