package run

import (
	"errors"
	"fmt"
	"os"

	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
)

// lockReport takes the lock on the run's report for the run's whole life,
// before anything may archive or compact it: the checkpoint lock alone let
// a second run naming the same --report with another --checkpoint archive
// the live run's report from under it. A report in S3 is a private local
// copy, guarded by the S3 side; it is not locked here.
func (r *run) lockReport() error {
	if r.s3 != nil && r.s3.reportURL != "" {
		return nil
	}
	lf, err := report.LockReport(r.reportPath)
	if errors.Is(err, fsutil.ErrLocked) {
		return usage(fmt.Errorf("report %s is held by a running cogsweep (another run writing the same --report, perhaps with another --checkpoint): wait for it to end, or stop it, or give this run another --report", r.reportPath))
	}
	if err != nil {
		return fmt.Errorf("lock report: %w", err)
	}
	r.reportLock = lf
	return nil
}

// releaseReport drops the report's lock. A report still empty (the run
// stopped before writing its header) is removed first, while still held,
// so a refused run leaves no empty file behind.
func (r *run) releaseReport() {
	lf := r.reportLock
	if lf == nil {
		return
	}
	r.reportLock = nil
	if fi, err := lf.File().Stat(); err == nil && fi.Size() == 0 {
		if at, err := lf.StillAt(); err == nil && at {
			os.Remove(lf.Path())
		}
	}
	if err := lf.Close(); err != nil {
		r.log.Warn("release the report's lock", "report", lf.Path(), "error", err)
	}
}

// heldFiles are the files archived with the checkpoint that the run holds
// locked: the report, whose path gets a new, still locked, empty file.
func (r *run) heldFiles() []*fsutil.LockedFile {
	if r.reportLock == nil {
		return nil
	}
	return []*fsutil.LockedFile{r.reportLock}
}

// loadReport and compactReport rewrite the report under its lock.
func (r *run) loadReport(rows int, retryFailed bool) (report.State, error) {
	if r.reportLock == nil {
		return report.Load(r.reportPath, rows, retryFailed)
	}
	return report.LoadLocked(r.reportLock, rows, retryFailed)
}

func (r *run) compactReport(rows int) (report.CompactResult, error) {
	if r.reportLock == nil {
		return report.Compact(r.reportPath, rows)
	}
	return report.CompactLocked(r.reportLock, rows)
}
