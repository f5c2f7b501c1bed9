package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/redact"
)

// Writer appends records to a report file. Each record is one write(2) on
// the file, not held in a process buffer, so a SIGKILL loses nothing already
// written; Sync makes them durable against a power loss, and the caller
// groups Syncs. A Writer is safe for concurrent use.
type Writer struct {
	path string
	f    *os.File

	mu   sync.Mutex
	buf  []byte // reused encoding buffer: Write allocates nothing
	size int64  // bytes of complete lines in the file
	err  error  // sticky: after a failed write the file may end in a partial line

	closed bool
}

// OpenWriter opens the report at path for appending, creating it (mode 0600)
// and writing the header line h when the file is new or empty. An existing
// file must start with a report header (else an error wrapping ErrNoHeader):
// a mistyped --report naming some other file is never appended to. A torn
// last line left by a kill is truncated away first. Whether the existing
// header belongs to this run is the caller's decision (ReadHeader).
func OpenWriter(path string, h Header) (*Writer, error) {
	f, err := fsutil.OpenPrivate("report", path, os.O_RDWR|os.O_CREATE|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	w := &Writer{path: path, f: f, buf: make([]byte, 0, 1024)}
	if err := w.init(h); err != nil {
		f.Close()
		return nil, fmt.Errorf("open report %s: %w", path, err)
	}
	return w, nil
}

func (w *Writer) init(h Header) error {
	size, _, err := fsutil.TrimTornTail(w.f)
	if err != nil {
		return err
	}
	if size > 0 {
		if _, _, err := readHeader(&readerAt{f: w.f}); err != nil {
			return err
		}
		w.size = size
		return nil
	}
	if h.Kind == "" {
		h.Kind = HeaderKind
	}
	if h.SchemaVersion == 0 {
		h.SchemaVersion = SchemaVersion
	}
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode header: %w", err)
	}
	line = append(line, '\n')
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	w.size = int64(len(line))
	return nil
}

// readerAt reads a file from offset 0 without moving its offset, which
// O_APPEND writes do not use anyway.
type readerAt struct {
	f   *os.File
	off int64
}

func (r *readerAt) Read(p []byte) (int, error) {
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}

// Path returns the file the Writer appends to.
func (w *Writer) Path() string { return w.path }

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("report writer closed")

// Write appends r as one line with a single write(2). After a failed write
// every later Write returns the same error: the run cannot keep its promise
// of one line per row, and the caller must stop.
func (w *Writer) Write(r *Record) error {
	if !ValidTime(r.At) {
		return fmt.Errorf("write report: row %d: time %s cannot be encoded", r.Row, r.At)
	}
	r = scrubbed(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = AppendRecord(w.buf[:0], r)
	w.buf = append(w.buf, '\n')
	n, err := w.f.Write(w.buf)
	if err != nil {
		// Cut the partial line so a resume after this run does not glue the
		// next record onto it; OpenWriter would also drop it as torn.
		if n > 0 {
			_ = w.f.Truncate(w.size)
		}
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
		}
		w.err = fmt.Errorf("write report %s: %w", w.path, err)
		return w.err
	}
	w.size += int64(n)
	return nil
}

// Sync flushes the written records to stable storage. It does not hold the
// write lock: records written meanwhile are simply part of this or the next
// group.
func (w *Writer) Sync() error {
	if err := w.f.Sync(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
		}
		return fmt.Errorf("fsync report %s: %w", w.path, err)
	}
	return nil
}

// Close syncs and closes the file. Writes after Close fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.err == nil {
		w.err = ErrClosed
	}
	serr := w.f.Sync()
	cerr := w.f.Close()
	if serr != nil {
		return fmt.Errorf("close report %s: fsync: %w", w.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("close report %s: %w", w.path, cerr)
	}
	return nil
}

// scrubbed is the last guard on the fields that may carry a service's text,
// whoever built the record: no JWT shape in the message, and a code and a
// request id shaped like them (the batch has already removed the row's own
// token, in part too, which needs the token). It returns r itself, without
// allocating, when there is nothing to change.
func scrubbed(r *Record) *Record {
	code, id, msg := redact.Code(r.ErrorCode), redact.RequestID(r.RequestID), redact.Text(r.Message)
	if code == r.ErrorCode && id == r.RequestID && msg == r.Message {
		return r
	}
	c := *r
	c.ErrorCode, c.RequestID, c.Message = code, id, msg
	return &c
}
