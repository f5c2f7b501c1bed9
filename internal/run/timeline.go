package run

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// startTimeline opens the run's timeline beside its checkpoint and puts a
// meter around each of the job's limiters; nil when the run keeps none. A
// timeline that cannot be opened is a warning: it is a picture of the run,
// not part of its product. Beside a checkpoint in S3, the storage keeps it
// in S3 too (files.Timeline is then its local copy).
func startTimeline(ctx context.Context, log *slog.Logger, job *batch.Job, files Files, resume bool) *timeline.Recorder {
	if files.Timeline == "" {
		return nil // the storage said why
	}
	tl, err := timeline.Open(files.Timeline, timeline.Options{Resume: resume})
	if err != nil {
		log.Warn("the run keeps no timeline", "error", err)
		return nil
	}
	meter := func(category string, l batch.Limiter) batch.Limiter {
		if l == nil {
			return nil
		}
		return tl.Meter(category, l)
	}
	job.Writes = meter("UserUpdate", job.Writes)
	job.Reads = meter("UserRead", job.Reads)
	job.Lists = meter("UserList", job.Lists)
	job.Creates = meter("UserCreation", job.Creates)
	if err := tl.Start(ctx); err != nil {
		log.Warn("the run keeps no timeline", "error", err)
		_ = tl.Close("")
		return nil
	}
	return tl
}

// endTimeline ends the timeline's run with the run's status.
func endTimeline(log *slog.Logger, tl *timeline.Recorder, runErr error) {
	if tl == nil {
		return
	}
	status := "finished"
	switch {
	case errors.Is(runErr, batch.ErrInterrupted):
		status = "interrupted"
	case runErr != nil:
		status = "aborted"
	}
	if err := tl.Close(status); err != nil {
		log.Warn("the timeline could not be written; the run's result is unaffected", "file", tl.Path(), "error", err)
	}
}
