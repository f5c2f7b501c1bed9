package report

// The external sort Merge uses: record lines by row, in memory up to a
// bound, then as sorted runs spilled to a temporary file and merged back.

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// entry is one record line in the sort.
type entry struct {
	row  int
	file int
	off  int64
	line []byte
}

func (a entry) compare(b entry) int {
	return cmp.Or(cmp.Compare(a.row, b.row), cmp.Compare(a.file, b.file), cmp.Compare(a.off, b.off))
}

// sorter is an external sort of entries by (row, file, offset).
type sorter struct {
	chunkBytes int
	tempDir    string
	buf        []entry
	bytes      int
	spill      *os.File
	w          *bufio.Writer
	runs       []spillRun
	size       int64
}

type spillRun struct{ off, size int64 }

func (s *sorter) add(row, file int, off int64, raw []byte) error {
	s.buf = append(s.buf, entry{row: row, file: file, off: off, line: slices.Clone(raw)})
	s.bytes += len(raw) + 48
	if s.bytes >= s.chunkBytes {
		return s.flush()
	}
	return nil
}

func (s *sorter) sortBuf() {
	slices.SortFunc(s.buf, entry.compare)
}

// flush sorts the buffer and appends it to the spill file as one run:
// per entry, uvarints row, file, offset and length, then the line.
func (s *sorter) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	s.sortBuf()
	if s.spill == nil {
		f, err := os.CreateTemp(s.tempDir, "cogsweep-merge-*")
		if err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		s.spill, s.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	start := s.size
	var hdr [4 * binary.MaxVarintLen64]byte
	for _, e := range s.buf {
		n := binary.PutUvarint(hdr[:], uint64(e.row))
		n += binary.PutUvarint(hdr[n:], uint64(e.file))
		n += binary.PutUvarint(hdr[n:], uint64(e.off))
		n += binary.PutUvarint(hdr[n:], uint64(len(e.line)))
		if _, err := s.w.Write(hdr[:n]); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		if _, err := s.w.Write(e.line); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		s.size += int64(n + len(e.line))
	}
	s.runs = append(s.runs, spillRun{off: start, size: s.size - start})
	clear(s.buf)
	s.buf, s.bytes = s.buf[:0], 0
	return nil
}

// finish ends the input: everything stays in memory when it all fit in one
// chunk, else the last chunk is spilled too. It returns the number of runs
// on disk.
func (s *sorter) finish() (int, error) {
	if s.spill == nil {
		s.sortBuf()
		return 0, nil
	}
	if err := s.flush(); err != nil {
		return 0, err
	}
	if err := s.w.Flush(); err != nil {
		return 0, fmt.Errorf("spill: %w", err)
	}
	return len(s.runs), nil
}

// each calls fn for the entries in order.
func (s *sorter) each(fn func(entry) error) error {
	if s.spill == nil {
		for _, e := range s.buf {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	h := make(runHeap, 0, len(s.runs))
	for _, r := range s.runs {
		rr := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(s.spill, r.off, r.size), 64<<10)}
		ok, err := rr.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, rr)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		top := h[0]
		if err := fn(top.cur); err != nil {
			return err
		}
		ok, err := top.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

func (s *sorter) close() {
	if s.spill != nil {
		s.spill.Close()
		os.Remove(s.spill.Name())
	}
}

type runReader struct {
	r   *bufio.Reader
	cur entry
}

func (rr *runReader) next() (bool, error) {
	row, err := binary.ReadUvarint(rr.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read spill: %w", err)
	}
	var v [3]uint64
	for i := range v {
		if v[i], err = binary.ReadUvarint(rr.r); err != nil {
			return false, fmt.Errorf("read spill: %w", noEOF(err))
		}
	}
	line := make([]byte, v[2])
	if _, err := io.ReadFull(rr.r, line); err != nil {
		return false, fmt.Errorf("read spill: %w", noEOF(err))
	}
	rr.cur = entry{row: int(row), file: int(v[0]), off: int64(v[1]), line: line}
	return true, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur.compare(h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
