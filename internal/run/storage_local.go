package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// localStorage keeps a run's files on the local file system.
type localStorage struct {
	log  *slog.Logger
	lock *fsutil.LockedFile // the report's, from Open to Close
}

var _ Storage = (*localStorage)(nil)

func (l *localStorage) Input(_ context.Context, path string) (Source, error) {
	return Source{Path: path}, nil
}

// Local is every path but a URL, which names no local file.
func (l *localStorage) Local(path string) bool { return !strings.Contains(path, "://") }

// Check refuses a symlink where the run writes: the opens refuse it too
// (O_NOFOLLOW), but only after the run has begun.
func (l *localStorage) Check(files ...namedPath) error {
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if err := fsutil.RefuseSymlink(f.what, f.path); err != nil {
			return usage(err)
		}
	}
	return nil
}

// Open takes the lock on the run's report for the run's whole life, before
// anything may archive or compact it: the checkpoint lock alone let a
// second run naming the same --report with another --checkpoint archive
// the live run's report from under it.
func (l *localStorage) Open(_ context.Context, rep, ckpt string) (Files, error) {
	lf, err := report.LockReport(rep)
	if errors.Is(err, fsutil.ErrLocked) {
		return Files{}, usage(fmt.Errorf("report %s is held by a running cogsweep (another run writing the same --report, perhaps with another --checkpoint): wait for it to end, or stop it, or give this run another --report", rep))
	}
	if err != nil {
		return Files{}, fmt.Errorf("lock report: %w", err)
	}
	l.lock = lf
	return Files{Report: rep, Checkpoint: ckpt, Lock: lf, Timeline: timeline.PathFor(ckpt)}, nil
}

// Start has nothing to start: a local file is durable once fsynced.
func (l *localStorage) Start(_ context.Context, j batch.IntentLog) (batch.IntentLog, error) {
	return j, nil
}

func (l *localStorage) Finish(context.Context) error { return nil }

// Close drops the report's lock. A report still empty (the run stopped
// before writing its header) is removed first, while still held, so a
// refused run leaves no empty file behind.
func (l *localStorage) Close(context.Context) {
	lf := l.lock
	if lf == nil {
		return
	}
	l.lock = nil
	if fi, err := lf.File().Stat(); err == nil && fi.Size() == 0 {
		if at, err := lf.StillAt(); err == nil && at {
			os.Remove(lf.Path())
		}
	}
	if err := lf.Close(); err != nil {
		l.log.Warn("release the report's lock", "report", lf.Path(), "error", err)
	}
}
