package input

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
)

// DupSet is the set of key hashes that occur more than once in an input,
// found by Scan. Two different keys may share a hash, so membership means
// "maybe repeated"; Tracker settles it on the exact key.
type DupSet struct {
	hashes []uint64 // sorted, distinct
}

// Maybe reports whether key may occur more than once. It is never false for
// a key that does repeat. A nil DupSet holds nothing.
func (d *DupSet) Maybe(key string) bool {
	if d == nil || key == "" {
		return false
	}
	_, ok := slices.BinarySearch(d.hashes, hash64(key))
	return ok
}

// Len is the number of repeated hashes.
func (d *DupSet) Len() int {
	if d == nil {
		return 0
	}
	return len(d.hashes)
}

// Tracker finds repeated keys during the main pass. It remembers exact keys
// only for hashes in its DupSet, so its memory is the repeated keys, and a
// hash collision never makes a false duplicate. It is not safe for
// concurrent use.
type Tracker struct {
	dups  *DupSet
	first map[string]int
}

// NewTracker returns a Tracker for the repeated hashes d (nil: none).
func NewTracker(d *DupSet) *Tracker {
	return &Tracker{dups: d, first: make(map[string]int)}
}

// See records that key occurs on row. When key was seen before it returns
// the row it was first seen on and dup true; otherwise row and false. An
// empty key is never a duplicate.
func (t *Tracker) See(key string, row int) (firstRow int, dup bool) {
	if !t.dups.Maybe(key) {
		return row, false
	}
	if first, ok := t.first[key]; ok {
		return first, true
	}
	t.first[key] = row
	return row, false
}

// dupFinder collects key hashes in bounded memory: a buffer of at most
// runSize hashes, sorted and spilled as a run to one temporary file when
// full; finish merges the runs and keeps only the hashes seen twice or more.
type dupFinder struct {
	runSize int
	dir     string
	buf     []uint64
	file    *os.File
	w       *bufio.Writer
	runs    []run
	size    int64 // bytes written to file
}

// run is one sorted run in the spill file.
type run struct {
	off, n int64 // byte offset, number of hashes
}

func (f *dupFinder) add(h uint64) error {
	f.buf = append(f.buf, h)
	if len(f.buf) >= f.runSize {
		return f.spill()
	}
	return nil
}

func (f *dupFinder) spill() error {
	if len(f.buf) == 0 {
		return nil
	}
	slices.Sort(f.buf)
	if f.file == nil {
		file, err := os.CreateTemp(f.dir, "cogsweep-dups-*")
		if err != nil {
			return fmt.Errorf("spill key hashes: %w", err)
		}
		f.file = file
		f.w = bufio.NewWriterSize(file, 64<<10)
	}
	var b [8]byte
	for _, h := range f.buf {
		binary.LittleEndian.PutUint64(b[:], h)
		if _, err := f.w.Write(b[:]); err != nil {
			return fmt.Errorf("spill key hashes: %w", err)
		}
	}
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("spill key hashes: %w", err)
	}
	f.runs = append(f.runs, run{off: f.size, n: int64(len(f.buf))})
	f.size += 8 * int64(len(f.buf))
	f.buf = f.buf[:0]
	return nil
}

// finish returns the hashes added more than once.
func (f *dupFinder) finish() (*DupSet, error) {
	if len(f.runs) == 0 {
		slices.Sort(f.buf)
		return &DupSet{hashes: repeated(f.buf)}, nil
	}
	if err := f.spill(); err != nil {
		return nil, err
	}
	f.buf = nil
	h := make(mergeHeap, 0, len(f.runs))
	for _, r := range f.runs {
		c := &cursor{
			r:    bufio.NewReaderSize(io.NewSectionReader(f.file, r.off, 8*r.n), int(min(64<<10, 8*r.n))),
			left: r.n,
		}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	var out []uint64
	var prev uint64
	count := 0
	for len(h) > 0 {
		c := h[0]
		if count > 0 && c.cur == prev {
			count++
		} else {
			prev, count = c.cur, 1
		}
		if count == 2 {
			out = append(out, prev)
		}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return &DupSet{hashes: out}, nil
}

// close removes the spill file.
func (f *dupFinder) close() error {
	if f.file == nil {
		return nil
	}
	name := f.file.Name()
	cerr := f.file.Close()
	f.file = nil
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("remove key hash spill: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("close key hash spill: %w", cerr)
	}
	return nil
}

// repeated returns the values that occur more than once in sorted s, once
// each.
func repeated(s []uint64) []uint64 {
	var out []uint64
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] && (len(out) == 0 || out[len(out)-1] != s[i]) {
			out = append(out, s[i])
		}
	}
	return out
}

// cursor reads one sorted run.
type cursor struct {
	r    *bufio.Reader
	left int64
	cur  uint64
	b    [8]byte
}

func (c *cursor) advance() (bool, error) {
	if c.left == 0 {
		return false, nil
	}
	if _, err := io.ReadFull(c.r, c.b[:]); err != nil {
		return false, fmt.Errorf("read key hash spill: %w", err)
	}
	c.cur = binary.LittleEndian.Uint64(c.b[:])
	c.left--
	return true, nil
}

// mergeHeap orders cursors by their current hash for the k-way merge.
type mergeHeap []*cursor

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return h[i].cur < h[j].cur }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *mergeHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
