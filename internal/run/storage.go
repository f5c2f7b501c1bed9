package run

import (
	"context"
	"io"
	"os"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
)

// Storage is where a run's input, report and checkpoint live. The run names
// them by the paths it was given (a file or s3://bucket/key) and never asks
// which: local files (localStorage) or S3 (s3Storage, which keeps local
// copies and uploads them). The local machinery (report.Writer,
// checkpoint.Journal) works on Files, the paths Open returns.
type Storage interface {
	// Input fetches the input at path for the run's passes. A path that
	// is no object of this storage is the local file itself.
	Input(ctx context.Context, path string) (Source, error)
	// Check refuses, before any call, what Open would refuse later (a
	// symlink where the run writes).
	Check(files ...namedPath) error
	// Local tells whether path is a file of the local file system, as
	// the files a run writes beside its report by itself (a --select
	// manifest) must be: this storage keeps no other.
	Local(path string) bool
	// Open takes the run's report and checkpoint for its whole life: a
	// lock, or a lease (waiting for a dead holder's to expire), and the
	// local files to work on.
	Open(ctx context.Context, report, checkpoint string) (Files, error)
	// Start begins keeping the files durable where they belong; the intent
	// log returned counts an intent only once it is there.
	Start(ctx context.Context, intents batch.IntentLog) (batch.IntentLog, error)
	// Finish leaves the report and the checkpoint whole where they belong,
	// at the end of a run that ended by itself.
	Finish(ctx context.Context) error
	// Close releases what Open took and removes local copies; after a run
	// that returned early it first saves what it can.
	Close(ctx context.Context)
}

// namedPath is a file the run writes, with what it is for messages.
type namedPath struct{ what, path string }

// Files are the local files a run works on, and the lock on the report (nil
// when the report is a private copy that needs none).
type Files struct {
	Report, Checkpoint string
	Lock               *fsutil.LockedFile
	// Timeline is the run's timeline, beside the checkpoint: a local file,
	// or the local copy of one the storage keeps beside a checkpoint in S3.
	Timeline string
}

// held is the files archived with the checkpoint that the run holds locked:
// the report, whose path gets a new, still locked, empty file.
func (f Files) held() []*fsutil.LockedFile {
	if f.Lock == nil {
		return nil
	}
	return []*fsutil.LockedFile{f.Lock}
}

// load and compact rewrite the report under its lock.
func (f Files) load(rows int, retryFailed bool) (report.State, error) {
	if f.Lock == nil {
		return report.Load(f.Report, rows, retryFailed)
	}
	return report.LoadLocked(f.Lock, rows, retryFailed)
}

func (f Files) compact(rows int) (report.CompactResult, error) {
	if f.Lock == nil {
		return report.Compact(f.Report, rows)
	}
	return report.CompactLocked(f.Lock, rows)
}

// Source is the input of a run, opened once per pass.
type Source struct {
	// Path is the local file, "" when the input is held in Spool.
	Path  string
	Spool *input.Spool // stdin or an S3 object, held unnamed
	// Audit is what the header records of where the input came from.
	Audit map[string]any
}

// Open opens the input for one pass.
func (s Source) Open() (io.ReadCloser, error) {
	if s.Spool != nil {
		return s.Spool.Open(), nil
	}
	return os.Open(s.Path)
}

// Close drops a spool.
func (s Source) Close() error {
	if s.Spool != nil {
		return s.Spool.Close()
	}
	return nil
}
