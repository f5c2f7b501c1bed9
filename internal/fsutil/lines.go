package fsutil

import (
	"bytes"
	"io"
)

// LineReader reads newline-terminated lines from r, reusing one buffer: the
// slice Next returns is valid only until the next call. A line longer than
// the buffer grows it, so memory is bounded by the longest line, not by the
// file.
type LineReader struct {
	r          io.Reader
	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	off        int64 // file offset of buf[start]
	err        error // sticky read error (io.EOF at the end)
}

// NewLineReader returns a LineReader over r whose first byte is at file
// offset off.
func NewLineReader(r io.Reader, off int64) *LineReader {
	return &LineReader{r: r, buf: make([]byte, 64<<10), off: off}
}

// Next returns the next line without its newline, the file offset of its
// first byte, and whether it was complete. An incomplete line is the torn
// tail of the file: it is returned once, then io.EOF. At the end Next
// returns io.EOF; other errors are read errors, returned once the complete
// lines before them are consumed.
func (lr *LineReader) Next() (line []byte, off int64, complete bool, err error) {
	scanned := 0 // bytes of buf[start:end] already known to hold no newline
	for {
		if i := bytes.IndexByte(lr.buf[lr.start+scanned:lr.end], '\n'); i >= 0 {
			j := lr.start + scanned + i
			line, off = lr.buf[lr.start:j], lr.off
			lr.off += int64(j + 1 - lr.start)
			lr.start = j + 1
			return line, off, true, nil
		}
		scanned = lr.end - lr.start
		if lr.err != nil {
			if lr.start < lr.end && lr.err == io.EOF {
				line, off = lr.buf[lr.start:lr.end], lr.off
				lr.off += int64(lr.end - lr.start)
				lr.start = lr.end
				return line, off, false, nil
			}
			return nil, lr.off, false, lr.err
		}
		if lr.start > 0 {
			n := copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.start, lr.end = 0, n
		}
		if lr.end == len(lr.buf) {
			grown := make([]byte, 2*len(lr.buf))
			copy(grown, lr.buf[:lr.end])
			lr.buf = grown
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.err = err
		}
		if n == 0 && err == nil {
			// A reader that returns 0, nil forever would spin; io.Reader
			// discourages it, so treat it as the end.
			lr.err = io.ErrNoProgress
		}
	}
}
