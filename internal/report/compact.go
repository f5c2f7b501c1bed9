package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// CompactResult describes a report after Compact.
type CompactResult struct {
	Have    *Bitset         // rows 1..rows that have a line
	Counts  map[Outcome]int // outcomes of the lines kept
	Lines   int             // record lines before compaction (torn tail excluded)
	Kept    int             // lines kept: one per row in Have
	Dropped int             // lines removed: superseded, unparsable or out of range
	Torn    bool            // a torn last line was removed
	// Corrupt lists the lines that are not records (removed with the
	// others), and a torn tail that a kill mid-append cannot have left
	// (see fsutil.TornByCrash): a reader warns about them once.
	Corrupt fsutil.BadLines
}

// State is what a resumed run needs from its report.
type State struct {
	// Settled holds the rows a resumed run leaves alone: their last
	// outcome is Settled(transient, retryFailed).
	Settled *Bitset
	Have    *Bitset // rows that have a line
	Counts  map[Outcome]int
	Dropped int  // lines Compact removed
	Torn    bool // a torn last line was removed
	Corrupt fsutil.BadLines
}

// backChunk is the read size of the backward pass.
const backChunk = 256 << 10

// Compact rewrites the report at path so that it holds its header and
// exactly one line per row that has any: the last line for a row, in file
// order, wins (a resumed run appends the newer outcome). Torn and unparsable
// lines, and lines whose row is outside 1..rows, are dropped.
//
// Memory is O(rows/8 + lines/8): a backward pass marks each row the first
// time it is met (that is its last line) in a bitset and records one keep bit
// per line; a forward pass copies the kept lines. A file with nothing to drop
// is not rewritten (only a torn tail is cut). A rewrite goes through a temp
// file in the same directory, fsync, rename and directory fsync, so a crash
// leaves either the old file or the new one.
//
// A file that is empty or holds only a torn header is truncated to empty (the
// next OpenWriter writes the header). Compact must not run while a Writer has
// the file open; the report's lock (LockReport) serializes runs.
func Compact(path string, rows int) (CompactResult, error) {
	return compact(path, rows, nil, nil)
}

// LockReport takes the exclusive lock a run holds on its report for its
// whole life, creating the file empty when there is none: a second run
// naming the same report, whatever its checkpoint, gets an error matching
// fsutil.ErrLocked and must not archive, compact or append to it. The lock
// is on the report itself (see fsutil.LockedFile); while it is held,
// rewrite the report only with CompactLocked and LoadLocked, which keep the
// path locked across their rename.
func LockReport(path string) (*fsutil.LockedFile, error) {
	return fsutil.LockFile("report", path, os.O_RDWR)
}

// CompactLocked is Compact of the report l holds; the rewritten file is
// locked before it is renamed over the path.
func CompactLocked(l *fsutil.LockedFile, rows int) (CompactResult, error) {
	return compact(l.Path(), rows, nil, l.Replace)
}

// LoadLocked is Load of the report l holds (see CompactLocked).
func LoadLocked(l *fsutil.LockedFile, rows int, retryFailed bool) (State, error) {
	return load(l.Path(), rows, retryFailed, l.Replace)
}

// Load compacts the report at path and returns which rows are settled for a
// resume. retryFailed makes permanent failures unsettled too (--retry-failed).
// A missing file is an error wrapping fs.ErrNotExist.
func Load(path string, rows int, retryFailed bool) (State, error) {
	return load(path, rows, retryFailed, nil)
}

func load(path string, rows int, retryFailed bool, replace func(*os.File) error) (State, error) {
	settled := NewBitset(max(rows, 0) + 1)
	res, err := compact(path, rows, func(row int, o Outcome, transient bool) {
		if o.Settled(transient, retryFailed) {
			settled.Set(row)
		}
	}, replace)
	if err != nil {
		return State{}, fmt.Errorf("load report: %w", err)
	}
	return State{Settled: settled, Have: res.Have, Counts: res.Counts, Dropped: res.Dropped, Torn: res.Torn, Corrupt: res.Corrupt}, nil
}

// Count returns the outcome counts of the report at path, the last line per
// row winning, and how many rows have a line, without rewriting the file.
// Rows outside 1..Rows of the file's header are not counted. It is meant for
// status while a run may be appending: a torn tail is ignored.
func Count(path string) (map[Outcome]int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("count report: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("count report: %w", err)
	}
	end, err := fsutil.CompleteSize(f, st.Size())
	if err != nil {
		return nil, 0, fmt.Errorf("count report %s: %w", path, err)
	}
	if end == 0 {
		return map[Outcome]int{}, 0, nil
	}
	h, hdrLen, err := readHeader(io.NewSectionReader(f, 0, end))
	if err != nil {
		return nil, 0, fmt.Errorf("count report %s: %w", path, err)
	}
	res, err := lastWins(f, hdrLen, end, max(h.Rows, 0), nil, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("count report %s: %w", path, err)
	}
	return res.Counts, res.Kept, nil
}

// compact is Compact; replace, when not nil, puts the rewritten file (open,
// synced) over path instead of a plain rename.
func compact(path string, rows int, kept func(row int, o Outcome, transient bool), replace func(*os.File) error) (CompactResult, error) {
	rows = max(rows, 0)
	f, err := fsutil.OpenPrivate("report", path, os.O_RDWR)
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact report: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact report: %w", err)
	}
	end, err := fsutil.CompleteSize(f, st.Size())
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
	}
	torn := end < st.Size()
	if end == 0 {
		// Killed before the header was whole: nothing to keep.
		if err := truncate(f, 0, torn); err != nil {
			return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
		}
		return CompactResult{Have: NewBitset(rows + 1), Counts: map[Outcome]int{}, Torn: torn}, nil
	}
	_, hdrLen, err := readHeader(io.NewSectionReader(f, 0, end))
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
	}
	var keep GrowBits
	res, err := lastWins(f, hdrLen, end, rows, &keep, kept)
	if err != nil {
		return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
	}
	res.Torn = torn
	if torn {
		if err := judgeTail(f, end, st.Size(), res.Lines+2, &res.Corrupt); err != nil {
			return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
		}
	}
	if res.Dropped == 0 {
		if err := truncate(f, end, torn); err != nil {
			return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
		}
		return res, nil
	}
	if err := rewrite(path, f, hdrLen, end, res.Lines, &keep, replace); err != nil {
		return CompactResult{}, fmt.Errorf("compact report %s: %w", path, err)
	}
	return res, nil
}

func truncate(f *os.File, size int64, needed bool) error {
	if !needed {
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("cut torn line: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cut torn line: fsync: %w", err)
	}
	return nil
}

// lastWins reads the record lines in [start,end) backwards and keeps, for
// each row in 1..rows, the first line met: the last one in file order. keep,
// when not nil, gets one bit per line ordinal counted from the end.
func lastWins(f io.ReaderAt, start, end int64, rows int, keep *GrowBits, kept func(int, Outcome, bool)) (CompactResult, error) {
	res := CompactResult{Have: NewBitset(rows + 1), Counts: map[Outcome]int{}}
	in := newInterner()
	k := 0
	var bad badOrdinals
	err := scanBackward(f, start, end, backChunk, func(raw []byte, _ int64) error {
		ord := k
		k++
		res.Lines++
		row, o, tr, ok := parseLine(raw, in)
		if !ok {
			bad.add(ord)
			return nil
		}
		if row > rows || res.Have.Has(row) {
			return nil
		}
		res.Have.Set(row)
		res.Counts[o]++
		res.Kept++
		if keep != nil {
			keep.Set(ord)
		}
		if kept != nil {
			kept(row, o, tr)
		}
		return nil
	})
	res.Dropped = res.Lines - res.Kept
	res.Corrupt = bad.lines(res.Lines)
	return res, err
}

// badOrdinals keeps the corrupt lines met by the backward pass, counted
// from the end: all of them in n, and the last few met, which are the first
// in the file, in last.
type badOrdinals struct {
	n    int
	last []int
}

func (b *badOrdinals) add(ord int) {
	b.n++
	if len(b.last) == fsutil.MaxListedLines {
		copy(b.last, b.last[1:])
		b.last = b.last[:len(b.last)-1]
	}
	b.last = append(b.last, ord)
}

// lines turns the ordinals into line numbers of a file of header plus lines
// record lines: ordinal 0 is its last line, number lines+1.
func (b *badOrdinals) lines(lines int) fsutil.BadLines {
	out := fsutil.BadLines{Count: b.n}
	for i := len(b.last) - 1; i >= 0; i-- {
		out.First = append(out.First, lines+1-b.last[i])
	}
	return out
}

// judgeTail adds the torn tail [end,size) of f, line number n, to bad when
// it is not what a kill mid-append leaves. Its first bytes are enough to
// tell, however long it is.
func judgeTail(f io.ReaderAt, end, size int64, n int, bad *fsutil.BadLines) error {
	buf := make([]byte, min(size-end, 4096))
	if _, err := f.ReadAt(buf, end); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read torn line: %w", err)
	}
	if !fsutil.TornByCrash(buf) {
		bad.Add(n)
	}
	return nil
}

// rewrite copies the header and the kept lines of f into a temp file and
// renames it over path (with replace, when not nil, which owns tmp).
func rewrite(path string, f *os.File, hdrLen, end int64, lines int, keep *GrowBits, replace func(*os.File) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".compact-*")
	if err != nil {
		return fmt.Errorf("create temp: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	owned := false
	defer func() {
		if !owned {
			tmp.Close()
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod temp: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 256<<10)
	if _, err := io.Copy(w, io.NewSectionReader(f, 0, hdrLen)); err != nil {
		return fmt.Errorf("copy header: %w", err)
	}
	lr := fsutil.NewLineReader(io.NewSectionReader(f, hdrLen, end-hdrLen), hdrLen)
	for i := 0; ; i++ {
		raw, _, _, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if !keep.Has(lines - 1 - i) {
			continue
		}
		if _, err := w.Write(raw); err != nil {
			return fmt.Errorf("write temp: %w", err)
		}
		if err := w.WriteByte('\n'); err != nil {
			return fmt.Errorf("write temp: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write temp: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync temp: %w", err)
	}
	if replace != nil {
		owned = true // replace closes it on failure, keeps it on success
		return replace(tmp)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	return fsutil.SyncDir(dir)
}

// scanBackward calls fn for each line in [start,end) of f, last line first,
// without its newline. start must be a line start and end a line end (just
// after a newline). The buffer grows only for a line longer than chunk.
func scanBackward(f io.ReaderAt, start, end int64, chunk int, fn func(line []byte, off int64) error) error {
	buf := make([]byte, chunk)
	carry := 0 // buf[len(buf)-carry:] ends a line that starts before pos, newline included
	pos := end
	for pos > start {
		if carry == len(buf) {
			grown := make([]byte, 2*len(buf))
			copy(grown[len(grown)-carry:], buf)
			buf = grown
		}
		n := min(int64(len(buf)-carry), pos-start)
		lo := len(buf) - carry - int(n)
		if _, err := f.ReadAt(buf[lo:lo+int(n)], pos-n); err != nil {
			return fmt.Errorf("read backwards: %w", err)
		}
		pos -= n
		win := buf[lo:] // file bytes from pos on; ends with a newline
		j := len(win) - 1
		for {
			i := bytes.LastIndexByte(win[:j], '\n')
			if i < 0 {
				break
			}
			if err := fn(win[i+1:j], pos+int64(i)+1); err != nil {
				return err
			}
			j = i
		}
		if pos == start {
			return fn(win[:j], pos)
		}
		carry = j + 1
		copy(buf[len(buf)-carry:], win[:carry])
	}
	return nil
}
