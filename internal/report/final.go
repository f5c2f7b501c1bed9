package report

import (
	"fmt"
	"io"
	"os"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Finals calls fn with the line that wins for each row of the report at
// path: its last one, so an interrupted or resumed run's report reads as
// its next compaction would leave it. Lines come last in the file first.
// Rows outside 1..Rows of the header, corrupt lines and a torn tail are
// skipped. Memory is one bit per row, whatever the file's size. It
// returns the header and the last-wins counts.
func Finals(path string, fn func(Line) error) (Header, CompactResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, CompactResult{}, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Header{}, CompactResult{}, fmt.Errorf("read report: %w", err)
	}
	end, err := fsutil.CompleteSize(f, st.Size())
	if err != nil {
		return Header{}, CompactResult{}, fmt.Errorf("read report %s: %w", path, err)
	}
	h, hdrLen, err := readHeader(io.NewSectionReader(f, 0, end))
	if err != nil {
		return Header{}, CompactResult{}, fmt.Errorf("read report %s: %w", path, err)
	}
	rows := max(h.Rows, 0)
	res := CompactResult{Have: NewBitset(rows + 1), Counts: map[Outcome]int{}}
	in := newInterner()
	err = scanBackward(f, hdrLen, end, backChunk, func(raw []byte, off int64) error {
		res.Lines++
		row, o, tr, ok := parseLine(raw, in)
		if !ok || row > rows || res.Have.Has(row) {
			return nil
		}
		res.Have.Set(row)
		res.Counts[o]++
		res.Kept++
		return fn(Line{Offset: off, Row: row, Outcome: o, Transient: tr, Raw: raw})
	})
	res.Dropped = res.Lines - res.Kept
	if err != nil {
		return h, res, fmt.Errorf("read report %s: %w", path, err)
	}
	return h, res, nil
}
