// Package backup keeps a copy of each user that delete removes: one NDJSON
// line per user in a local file (mode 0600), durable before the delete call
// is made.
//
// It may import cognito (the user it copies), input and fsutil. internal/run
// opens it; internal/batch writes through its own Backup interface and reads
// a backup's entries (backup.Entry) for restore.
package backup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Line is one backed-up user: what AdminGetUser and AdminListGroupsForUser
// returned just before the delete.
type Line struct {
	Row        int               `json:"row"` // the input row, as in the report
	UserPoolID string            `json:"user_pool_id"`
	Username   string            `json:"username"`
	Enabled    bool              `json:"enabled"`
	Status     string            `json:"status"`
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	Attributes map[string]string `json:"attributes"` // sub and email included
	Groups     []string          `json:"groups"`
	BackedUpAt time.Time         `json:"backed_up_at"`
}

// Writer appends Lines to a file. Save is safe for concurrent use and
// groups the fsyncs of concurrent callers: each caller returns once an fsync
// that began after its write has finished, so one fsync covers every line
// written while the previous one ran.
type Writer struct {
	path string
	f    *os.File
	now  func() time.Time

	mu      sync.Mutex
	cond    *sync.Cond
	written uint64 // lines written
	synced  uint64 // lines covered by a finished fsync
	syncing bool
	err     error // sticky: after a failure nothing is durable any more
	closed  bool
}

// ErrRemote is returned for an s3:// (or other URL) path: only local files
// are supported yet.
var ErrRemote = errors.New("--backup takes a local file path; S3 and other URLs are not supported yet")

// Open opens path for appending, creating it with mode 0600 (an existing
// file is made 0600 too: it holds personal data). A torn last line, left by
// a kill in the middle of a write, is cut off: its delete was never sent.
func Open(path string) (*Writer, error) {
	if strings.Contains(path, "://") {
		return nil, ErrRemote
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	// OpenPrivate refuses a symlink and anything not a regular file, and
	// makes an existing file 0600.
	f, err := fsutil.OpenPrivate("backup", path, os.O_RDWR|os.O_CREATE|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	fail := func(err error) (*Writer, error) {
		f.Close()
		return nil, fmt.Errorf("open backup %s: %w", path, err)
	}
	if _, _, err := fsutil.TrimTornTail(f); err != nil {
		return fail(err)
	}
	if created {
		// The file's directory entry must survive a crash as much as its
		// lines do.
		if err := fsutil.SyncDir(filepath.Dir(path)); err != nil {
			return fail(err)
		}
	}
	w := &Writer{path: path, f: f, now: time.Now}
	w.cond = sync.NewCond(&w.mu)
	return w, nil
}

// Path is the file's path.
func (w *Writer) Path() string { return w.path }

// Save writes the user of row as one line and returns once it is durable.
func (w *Writer) Save(row int, pool string, u cognito.User, groups []string) error {
	if groups == nil {
		groups = []string{}
	}
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	line, err := json.Marshal(Line{
		Row: row, UserPoolID: pool, Username: u.Username, Enabled: u.Enabled, Status: u.Status,
		Created: u.Created.UTC(), Modified: u.Modified.UTC(), Attributes: attrs, Groups: groups,
		BackedUpAt: w.now().UTC(),
	})
	if err != nil {
		return fmt.Errorf("encode backup line: %w", err)
	}
	line = append(line, '\n')

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("backup: write after close")
	}
	// One write(2) per line, under the lock, so lines never interleave.
	if _, err := w.f.Write(line); err != nil {
		w.err = fmt.Errorf("write backup %s: %w", w.path, err)
		return w.err
	}
	w.written++
	mine := w.written
	for w.synced < mine && w.err == nil {
		if w.syncing {
			w.cond.Wait()
			continue
		}
		// Lead an fsync covering every line written so far.
		w.syncing = true
		upTo := w.written
		w.mu.Unlock()
		err := w.f.Sync()
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			w.err = fmt.Errorf("fsync backup %s: %w", w.path, err)
		} else {
			w.synced = upTo
		}
		w.cond.Broadcast()
	}
	return w.err
}

// Close closes the file. Every Save that returned nil was already durable.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	for w.syncing {
		w.cond.Wait() // let the fsync in progress finish first
	}
	w.closed = true
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close backup %s: %w", w.path, err)
	}
	return nil
}
