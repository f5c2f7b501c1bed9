package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// ErrMergeRefused wraps the reasons Merge refuses its reports: they are
// not shards of one job (another input, action, pool or options), or a row
// is in two of them.
var ErrMergeRefused = errors.New("reports cannot be merged")

// MergeOptions tunes Merge.
type MergeOptions struct {
	// ChunkBytes is how many bytes of record lines are sorted in memory
	// before a sorted run is spilled to a temporary file; 0 means 64 MiB.
	ChunkBytes int
	// TempDir receives the spill files, removed before Merge returns; ""
	// means os.TempDir().
	TempDir string
}

// MergeResult describes a merged report.
type MergeResult struct {
	Header Header          // the merged report's header
	Kept   int             // rows with a line in the output
	Counts map[Outcome]int // outcomes of those lines
	// Missing counts rows of 1..Header.Rows that no report has: a shard's
	// report is missing or its run was killed. FirstMissing holds the
	// first few.
	Missing      int
	FirstMissing []int
	Shards       []string // the shards merged, as "I/N"
	// MissingShards are the shard indexes of 0..N-1 with no report.
	MissingShards []int
	Spilled       int // sorted runs written to disk (0: sorted in memory)
}

// Merge joins the reports of a sharded job (or any reports of one job that
// share no row) into one report at out: one header, then one line per row
// in row order. It refuses, with an error wrapping ErrMergeRefused, reports
// of different jobs and a row present in two reports. Within one report the
// last line of a row wins, as in Compact, so a killed shard's uncompacted
// report merges too. Rows no report has are counted in the result, not an
// error: the caller decides (the CLI exits 3).
//
// Shard reports are in the order rows finished, not row order, so Merge
// sorts: record lines are buffered up to ChunkBytes, sorted by row, and
// spilled as sorted runs to a temporary file when the buffer fills; the
// runs are then merged with a heap. Memory is bounded by ChunkBytes plus two
// bitsets of the rows (1.25 MB each per 10,000,000 rows), whatever the size
// of the reports. The output is written to a temporary file beside out,
// fsynced and renamed over it.
func Merge(out string, paths []string, opts MergeOptions) (MergeResult, error) {
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = 64 << 20
	}
	if len(paths) == 0 {
		return MergeResult{}, errors.New("merge: no reports given")
	}
	headers, err := checkFamily(out, paths)
	if err != nil {
		return MergeResult{}, err
	}
	res := MergeResult{Header: mergedHeader(headers, paths), Counts: map[Outcome]int{}}
	rows := res.Header.Rows
	for _, h := range headers {
		if h.Shard != "" {
			res.Shards = append(res.Shards, h.Shard)
		}
	}
	res.MissingShards = missingShards(headers)

	s := &sorter{chunkBytes: opts.ChunkBytes, tempDir: opts.TempDir}
	defer s.close()
	seen := NewBitset(rows + 1) // rows met in the reports read so far
	for i, p := range paths {
		mine := NewBitset(rows + 1)
		_, err := Scan(p, func(l Line) error {
			if l.Row > rows {
				return nil // not a row of this input: Compact drops it too
			}
			if seen.Has(l.Row) {
				return duplicateRow(l.Row, paths[:i], p, rows)
			}
			mine.Set(l.Row)
			return s.add(l.Row, i, l.Offset, l.Raw)
		})
		if err != nil {
			return MergeResult{}, fmt.Errorf("merge: %w", err)
		}
		orInto(seen, mine)
	}
	res.Kept = seen.Count()
	res.Missing = rows - res.Kept
	for r := 1; r <= rows && len(res.FirstMissing) < 10; r++ {
		if !seen.Has(r) {
			res.FirstMissing = append(res.FirstMissing, r)
		}
	}
	if res.Spilled, err = s.finish(); err != nil {
		return MergeResult{}, fmt.Errorf("merge: %w", err)
	}
	if err := writeMerged(out, res.Header, s, res.Counts); err != nil {
		return MergeResult{}, err
	}
	return res, nil
}

// checkFamily reads the headers and refuses reports that are not of one
// job, and an output that is one of the reports.
func checkFamily(out string, paths []string) ([]Header, error) {
	outAbs, _ := filepath.Abs(out)
	headers := make([]Header, len(paths))
	shards := map[string]string{}
	for i, p := range paths {
		if a, _ := filepath.Abs(p); a == outAbs {
			return nil, fmt.Errorf("%w: the output %s is one of the reports", ErrMergeRefused, out)
		}
		h, err := ReadHeader(p)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		headers[i] = h
		first := headers[0]
		switch {
		case family(h) != family(first):
			return nil, fmt.Errorf("%w: %s and %s are not shards of one job (another input, action, pool or options: fingerprints %.12s and %.12s)",
				ErrMergeRefused, paths[0], p, family(first), family(h))
		case h.Rows != first.Rows || h.Action != first.Action || h.DryRun != first.DryRun:
			return nil, fmt.Errorf("%w: %s and %s disagree on rows, action or dry run", ErrMergeRefused, paths[0], p)
		case (h.Shard == "") != (first.Shard == ""):
			return nil, fmt.Errorf("%w: %s is a shard's report and %s is not", ErrMergeRefused, paths[0], p)
		}
		if h.Shard != "" {
			if _, n, _ := strings.Cut(h.Shard, "/"); !strings.HasSuffix(first.Shard, "/"+n) {
				return nil, fmt.Errorf("%w: %s is shard %s and %s is shard %s: different numbers of shards", ErrMergeRefused, paths[0], first.Shard, p, h.Shard)
			}
			if prev, ok := shards[h.Shard]; ok {
				return nil, fmt.Errorf("%w: %s and %s are both shard %s", ErrMergeRefused, prev, p, h.Shard)
			}
			shards[h.Shard] = p
		}
	}
	return headers, nil
}

// family is what every shard of a job shares: the job's fingerprint.
func family(h Header) string {
	if h.JobFingerprint != "" {
		return h.JobFingerprint
	}
	return h.Fingerprint
}

func mergedHeader(hs []Header, paths []string) Header {
	m := hs[0]
	m.Fingerprint, m.JobFingerprint, m.Shard = family(m), "", ""
	audit := map[string]any{}
	for k, v := range hs[0].Audit {
		audit[k] = v
	}
	from := make([]map[string]any, len(hs))
	for i, h := range hs {
		if h.StartedAt.Before(m.StartedAt) {
			m.StartedAt = h.StartedAt
		}
		from[i] = map[string]any{"path": paths[i], "shard": h.Shard, "fingerprint": h.Fingerprint, "started_at": h.StartedAt.UTC().Format(time.RFC3339Nano)}
	}
	audit["merged_from"] = from
	m.Audit = audit
	return m
}

func missingShards(hs []Header) []int {
	var n int
	have := map[int]bool{}
	for _, h := range hs {
		var i int
		if _, err := fmt.Sscanf(h.Shard, "%d/%d", &i, &n); err == nil {
			have[i] = true
		}
	}
	var missing []int
	for i := range n {
		if !have[i] {
			missing = append(missing, i)
		}
	}
	return missing
}

// duplicateRow names the earlier report holding row (found again, on
// this error path only) and the one where it was met again.
func duplicateRow(row int, earlier []string, p string, rows int) error {
	first := "an earlier report"
	errFound := errors.New("found")
	for _, e := range earlier {
		_, err := Scan(e, func(l Line) error {
			if l.Row == row {
				return errFound
			}
			return nil
		})
		if errors.Is(err, errFound) {
			first = e
			break
		}
	}
	return fmt.Errorf("%w: row %d is in both %s and %s: were they made with different inputs or a different number of shards?",
		ErrMergeRefused, row, first, p)
}

// orInto adds the members of src to dst, which has the same size.
func orInto(dst, src *Bitset) {
	for i, w := range src.words {
		dst.words[i] |= w
	}
}

// writeMerged writes the header and, for each row, the last of its lines
// (entries of one row come from one report, in file order), through a
// temporary file renamed over out.
func writeMerged(out string, h Header, s *sorter, counts map[Outcome]int) error {
	dir := filepath.Dir(out)
	f, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hl, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode merged header: %w", err)
	}
	w.Write(append(hl, '\n'))

	in := newInterner()
	var pending []byte
	pendingRow := 0
	emit := func() {
		if pendingRow == 0 {
			return
		}
		if _, o, _, ok := parseLine(pending, in); ok {
			counts[o]++
		}
		w.Write(pending)
		w.WriteByte('\n')
	}
	err = s.each(func(e entry) error {
		if e.row != pendingRow {
			emit()
		}
		pending, pendingRow = e.line, e.row // a later line of the same row wins
		return nil
	})
	if err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	emit()
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write merged report: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("write merged report: %w", err)
	}
	return fsutil.SyncDir(dir)
}
