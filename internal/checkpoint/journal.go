package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Journal is an open, locked checkpoint. Its methods are safe for
// concurrent use.
type Journal struct {
	path string
	lock *fsutil.LockedFile // holds f: the lock is on the checkpoint itself

	mu     sync.Mutex
	f      *os.File
	buf    []byte // reused for intents: Intent allocates nothing
	state  State
	size   int64 // bytes of complete lines in the file
	err    error // sticky: after a failed write the file may end in a partial line
	closed bool
}

// ErrReplaced means the file at the checkpoint's path is no longer the one
// the journal holds locked: someone removed or replaced it under the run.
var ErrReplaced = errors.New("the checkpoint file was removed or replaced while this run held it")

// ErrClosed is returned by a Journal used after Close.
var ErrClosed = errors.New("checkpoint closed")

// Open opens the checkpoint at path, creating it empty (mode 0600) if it
// does not exist, and takes its exclusive lock. A lock held by another
// process, or by another Open in this one, is an error matching ErrLocked.
// A corrupt header is an error matching ErrCorrupt (Restart archives such a
// file). A torn last line is cut before anything is appended.
func Open(path string) (*Journal, error) {
	lf, err := lockExclusive(path)
	if err != nil {
		return nil, err
	}
	j, err := open(path, lf)
	if err != nil {
		lf.Close()
		return nil, err
	}
	return j, nil
}

// Restart takes the lock of the checkpoint at path, archives the checkpoint,
// the held files and the also files (the run's report) beside them with one
// timestamp (see Archive), and returns a new, empty journal, still locked:
// no other run can slip in between. Each held file's path gets a new, empty
// file the caller still holds (fsutil.LockedFile.ArchiveAside). It works
// whatever the old checkpoint holds, corrupt included. It returns the
// archived names.
func Restart(path string, held []*fsutil.LockedFile, also ...string) (*Journal, []string, error) {
	lf, err := lockExclusive(path)
	if err != nil {
		return nil, nil, err
	}
	archived, err := archiveHeld(time.Now(), append([]*fsutil.LockedFile{lf}, held...), also)
	if err != nil {
		lf.Close()
		return nil, archived, fmt.Errorf("restart checkpoint: %w", err)
	}
	j, err := open(path, lf)
	if err != nil {
		lf.Close()
		return nil, archived, err
	}
	return j, archived, nil
}

// open makes a journal of the locked checkpoint: its descriptor is the
// journal's, so every record goes to the file the lock is on.
func open(path string, lf *fsutil.LockedFile) (*Journal, error) {
	j := &Journal{path: path, lock: lf, f: lf.File(), buf: make([]byte, 0, 64)}
	if err := j.recover(); err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", path, err)
	}
	return j, nil
}

// recover loads the state, then cuts a torn tail. The header is judged
// before cutting: a torn header must be reported, not silently erased.
func (j *Journal) recover() error {
	st, err := load(io.NewSectionReader(j.f, 0, 1<<62))
	if err != nil {
		return err
	}
	size, _, err := fsutil.TrimTornTail(j.f)
	if err != nil {
		return err
	}
	j.state, j.size = st, size
	return nil
}

// Path returns the checkpoint's path.
func (j *Journal) Path() string { return j.path }

// State returns what the checkpoint says, including this process's records.
func (j *Journal) State() State {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state
}

// Header returns the checkpoint's header and whether it has one.
func (j *Journal) Header() (Header, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.state.Header, j.state.HasHeader
}

// WriteHeader writes the header of a new run; the journal must be empty.
// Kind and V are set, and CreatedAt when zero. The header is fsynced with
// its directory entry: everything after it depends on it.
func (j *Journal) WriteHeader(h Header) error {
	h.Kind, h.V = HeaderKind, Version
	if h.CreatedAt.IsZero() {
		h.CreatedAt = time.Now().UTC()
	}
	line, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("write checkpoint header: %w", err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.state.HasHeader || j.size > 0 {
		return fmt.Errorf("write checkpoint header %s: the checkpoint already has one", j.path)
	}
	if err := j.write(line); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("fsync checkpoint %s: %w", j.path, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(j.path)); err != nil {
		return fmt.Errorf("checkpoint %s: %w", j.path, err)
	}
	j.state.Header, j.state.HasHeader, j.state.hdrLen = h, true, int64(len(line))
	return nil
}

// StartRun records the start of a run and returns its number: one more
// than the last run's.
func (j *Journal) StartRun() (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.state.HasHeader {
		return 0, fmt.Errorf("start run in checkpoint %s: no header written", j.path)
	}
	n := j.state.Runs + 1
	line, err := json.Marshal(struct {
		K   string    `json:"k"`
		N   int       `json:"n"`
		PID int       `json:"pid"`
		At  time.Time `json:"at"`
	}{kindRun, n, os.Getpid(), time.Now().UTC()})
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	if err := j.write(append(line, '\n')); err != nil {
		return 0, err
	}
	j.state.Runs, j.state.Ended = n, false
	return n, nil
}

// Intent records, with one write(2), that a mutating call for row is about
// to be made and what the read before it found (a Read constant; ReadNone
// when no read was made). From then on the call may have reached the
// service, whatever happens to this process.
func (j *Journal) Intent(row int, read string) error {
	if _, ok := readValue([]byte(read)); !ok {
		return fmt.Errorf("checkpoint intent for row %d: unknown read result %q", row, read)
	}
	if row < 1 {
		return fmt.Errorf("checkpoint intent: row %d out of range", row)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = appendIntent(j.buf[:0], row, read)
	if err := j.write(j.buf); err != nil {
		return err
	}
	j.state.Intents++
	return nil
}

// End records how the current run ended: Finished, Interrupted or Aborted,
// with a reason for the last two.
func (j *Journal) End(status, reason string) error {
	if !validStatus(status) {
		return fmt.Errorf("end run in checkpoint %s: unknown status %q", j.path, status)
	}
	now := time.Now().UTC()
	line, err := json.Marshal(struct {
		K      string    `json:"k"`
		Status string    `json:"status"`
		At     time.Time `json:"at"`
		Reason string    `json:"reason,omitempty"`
	}{kindEnd, status, now, reason})
	if err != nil {
		return fmt.Errorf("end run: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.write(append(line, '\n')); err != nil {
		return err
	}
	j.state.Ended, j.state.LastStatus, j.state.LastReason, j.state.EndedAt = true, status, reason, now
	return nil
}

// write appends one complete line with one write(2). j.mu must be held.
func (j *Journal) write(line []byte) error {
	if j.err != nil {
		return j.err
	}
	n, err := j.f.Write(line)
	if err != nil {
		if n > 0 {
			_ = j.f.Truncate(j.size) // do not leave half a record for the next one to glue onto
		}
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
		}
		j.err = fmt.Errorf("write checkpoint %s: %w", j.path, err)
		return j.err
	}
	j.size += int64(n)
	return nil
}

// Intents streams the journal and returns the latest intent of every row
// for which keep returns true (all rows when keep is nil), mapped to its
// read result. The caller passes "not settled in the report", so memory
// grows with the rows still to do, not with the journal.
func (j *Journal) Intents(keep func(row int) bool) (map[int]string, error) {
	j.mu.Lock()
	f, start, end := j.f, j.state.hdrLen, j.size
	j.mu.Unlock()
	if end <= start {
		return map[int]string{}, nil
	}
	m, err := intents(io.NewSectionReader(f, start, end-start), start, keep)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint intents %s: %w", j.path, err)
	}
	return m, nil
}

// Sync makes the records written so far durable. It does not block
// writers while the disk works.
func (j *Journal) Sync() error {
	j.mu.Lock()
	f := j.f
	j.mu.Unlock()
	if err := f.Sync(); err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = ErrClosed
		}
		return fmt.Errorf("fsync checkpoint %s: %w", j.path, err)
	}
	// A checkpoint removed or replaced under the run leaves its path free
	// for a second run that would redo this one's rows: stop rather than
	// go on writing intents no later run will read.
	j.mu.Lock()
	at, err := j.lock.StillAt()
	j.mu.Unlock()
	if err != nil || !at {
		return fmt.Errorf("checkpoint %s: %w", j.path, errors.Join(ErrReplaced, err))
	}
	return nil
}

// Reset archives the checkpoint, the held files and the also files beside
// them (see Restart) and starts an empty journal at the same path, keeping
// the lock: the path always names a file this process holds. It is how a
// finished run's files make way for a run on a different input. It returns
// the archived names.
func (j *Journal) Reset(held []*fsutil.LockedFile, also ...string) ([]string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, ErrClosed
	}
	if err := j.f.Sync(); err != nil {
		return nil, fmt.Errorf("reset checkpoint %s: fsync: %w", j.path, err)
	}
	archived, aerr := archiveHeld(time.Now(), append([]*fsutil.LockedFile{j.lock}, held...), also)
	if aerr != nil && j.lock.File() == j.f {
		// The checkpoint was not replaced: appending to the old file would
		// mix two runs in it.
		j.err = fmt.Errorf("reset checkpoint %s: %w", j.path, aerr)
		return archived, j.err
	}
	j.f, j.err = j.lock.File(), nil
	if err := j.recover(); err != nil {
		j.err = fmt.Errorf("reset checkpoint %s: %w", j.path, err)
		return archived, errors.Join(aerr, j.err)
	}
	if aerr != nil {
		return archived, fmt.Errorf("reset checkpoint: %w", aerr)
	}
	return archived, nil
}

// Close syncs and closes the journal and releases its lock.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	if j.err == nil {
		j.err = ErrClosed
	}
	serr := j.f.Sync()
	lerr := j.lock.Close() // closes f too: it is the locked file
	switch {
	case serr != nil:
		return fmt.Errorf("close checkpoint %s: fsync: %w", j.path, serr)
	case lerr != nil:
		return fmt.Errorf("close checkpoint %s: %w", j.path, lerr)
	}
	return nil
}
