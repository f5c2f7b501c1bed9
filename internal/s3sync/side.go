package s3sync

// Side mirrors (SyncOptions.Side) are of files that picture the run rather
// than make its product (the timeline): uploaded every Interval on their own
// loop and at the end like the others, under the same lease, but Durable
// never waits for them and their failures are logged, never returned, so
// they can neither slow nor stop a call.

import (
	"context"
	"time"
)

// sideLoop uploads the side mirrors every Interval until the stop.
func (y *Syncer) sideLoop(ctx context.Context) {
	defer close(y.sideDone)
	if len(y.opts.Side) == 0 {
		return
	}
	tick := time.NewTicker(y.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-y.stop:
			return
		case <-tick.C:
			y.syncSide(ctx, (*Mirror).Sync)
		}
	}
}

// syncSide brings the side mirrors' archives and content to S3 with sync
// (Sync, or Settle at the end), while the lease is held; a failure is a
// warning.
func (y *Syncer) syncSide(ctx context.Context, sync func(*Mirror, context.Context) error) {
	if len(y.opts.Side) == 0 || y.Check() != nil {
		return
	}
	err := y.uploadArchives(ctx, y.opts.Side)
	for _, m := range y.opts.Side {
		if err == nil {
			err = sync(m, ctx)
		}
	}
	if err != nil {
		y.s.log.Warn("could not upload the run's timeline to S3; the run goes on, and will try again", "err", err)
	}
}
