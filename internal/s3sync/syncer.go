package s3sync

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// SyncOptions tune a Syncer. The zero value of each field means its default.
type SyncOptions struct {
	// Interval between uploads when nobody waits (default 1 s): the report
	// lines of rows that made no mutating call may lag this much.
	Interval time.Duration
	// MinGap between the starts of two uploads (default 100 ms): every
	// caller of Durable that arrives meanwhile shares the next one, so a
	// run makes at most 1/MinGap uploads per second and mirror.
	MinGap time.Duration
	// CollectEvery is how often superseded segments are deleted (default
	// 2 s).
	CollectEvery time.Duration
	// Side are mirrors kept in S3 on their own, best effort (side.go).
	Side []*Mirror
}

// ErrStopped is returned by Durable after the Syncer stopped.
var ErrStopped = errors.New("S3 uploads stopped")

// Syncer keeps a run's mirrors uploaded: in the background every Interval,
// and at once, in groups, for callers of Durable. It also uploads the files a
// checkpoint archives beside the mirrored ones (<name>.<UTC timestamp>) to
// the same S3 prefix. With a lease, nothing is uploaded unless the lease is
// held, and a lost lease or a fenced mirror stops it for good.
type Syncer struct {
	s       *Store
	lease   *Lease // nil: the checkpoint is not in S3
	mirrors []*Mirror
	opts    SyncOptions

	kick       chan struct{}
	stop, done chan struct{}
	sideDone   chan struct{} // closed when sideLoop ends
	ctx        context.Context

	mu       sync.Mutex
	next     *round // the upload that callers of Durable wait for
	fatal    error  // lease lost or mirror fenced: sticky
	running  bool
	stopped  bool
	finished bool
	archived map[string]bool // local archive files uploaded
}

// round is one upload of every mirror; done is closed when it ends.
type round struct {
	done chan struct{}
	err  error
}

// NewSyncer returns a Syncer of mirrors, guarded by lease (nil when the
// checkpoint is local). Start starts it.
func (s *Store) NewSyncer(lease *Lease, mirrors []*Mirror, o SyncOptions) *Syncer {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MinGap <= 0 {
		o.MinGap = 100 * time.Millisecond
	}
	if o.CollectEvery <= 0 {
		o.CollectEvery = 2 * time.Second
	}
	return &Syncer{s: s, lease: lease, mirrors: mirrors, opts: o,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), sideDone: make(chan struct{}),
		archived: map[string]bool{}}
}

// Start uploads at once what the mirrors need (archived files, new bases),
// then keeps uploading in the background until Finish or Close. Uploads
// outlive ctx's cancellation (a SIGTERM): the intents of calls still in
// flight must reach S3.
func (y *Syncer) Start(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if err := y.flush(ctx); err != nil {
		return err
	}
	y.mu.Lock()
	y.ctx, y.running = ctx, true
	y.mu.Unlock()
	go y.loop(ctx)
	go y.sideLoop(ctx)
	return nil
}

func (y *Syncer) loop(ctx context.Context) {
	defer close(y.done)
	tick := time.NewTicker(y.opts.Interval)
	defer tick.Stop()
	collect := time.NewTicker(y.opts.CollectEvery)
	defer collect.Stop()
	var last time.Time
	for {
		select {
		case <-y.stop:
			y.serve(ctx) // callers waiting when the stop came
			return
		case <-collect.C:
			for _, m := range slices.Concat(y.mirrors, y.opts.Side) {
				if err := m.Collect(ctx); err != nil {
					y.s.log.Debug("could not delete superseded S3 segments; will try again later", "err", err)
				}
			}
			continue
		case <-y.kick:
		case <-tick.C:
		}
		if gap := y.opts.MinGap - time.Since(last); gap > 0 {
			t := time.NewTimer(gap)
			select {
			case <-t.C:
			case <-y.stop:
				t.Stop()
			}
		}
		last = time.Now()
		y.serve(ctx)
	}
}

// serve makes one upload round and releases the callers that waited for it.
func (y *Syncer) serve(ctx context.Context) {
	y.mu.Lock()
	r := y.next
	y.next = nil
	y.mu.Unlock()
	err := y.flush(ctx)
	if r != nil {
		r.err = err
		close(r.done)
	} else if err != nil {
		y.s.log.Warn("could not upload to S3; will try again", "err", err)
	}
}

// Durable returns once everything written to the mirrored files before it
// was called is in S3 and the lease still held, or with the error that
// prevented it. Callers that arrive together share one upload.
func (y *Syncer) Durable() error {
	y.mu.Lock()
	if y.fatal != nil {
		defer y.mu.Unlock()
		return y.fatal
	}
	if !y.running || y.stopped {
		y.mu.Unlock()
		return ErrStopped
	}
	if y.next == nil {
		y.next = &round{done: make(chan struct{})}
	}
	r := y.next
	y.mu.Unlock()
	select {
	case y.kick <- struct{}{}:
	default:
	}
	select {
	case <-r.done:
	case <-y.done:
		select {
		case <-r.done:
		default:
			return ErrStopped
		}
	}
	if r.err != nil {
		return r.err
	}
	return y.Check()
}

// Check returns nil while uploads may go on: the lease (if any) is held
// and fresh and no mirror was fenced.
func (y *Syncer) Check() error {
	y.mu.Lock()
	fatal := y.fatal
	y.mu.Unlock()
	if fatal != nil {
		return fatal
	}
	if y.lease != nil {
		select {
		case <-y.lease.Lost():
			err := y.lease.Check()
			y.setFatal(err)
			return err
		default:
		}
		return y.lease.Check()
	}
	return nil
}

func (y *Syncer) setFatal(err error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.fatal == nil && err != nil {
		y.fatal = err
	}
}

// flush uploads archived files, then every mirror, in parallel.
func (y *Syncer) flush(ctx context.Context) error {
	if err := y.Check(); err != nil {
		return err
	}
	if err := y.uploadArchives(ctx, y.mirrors); err != nil {
		return err
	}
	errs := make([]error, len(y.mirrors))
	var wg sync.WaitGroup
	for i, m := range y.mirrors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Sync(ctx)
		}()
	}
	wg.Wait()
	err := errors.Join(errs...)
	if errors.Is(err, ErrPrecondition) {
		y.setFatal(err)
	}
	return err
}

// stopLoop stops the background uploads and waits for them to end.
func (y *Syncer) stopLoop() {
	y.mu.Lock()
	running, stopped := y.running, y.stopped
	y.stopped = true
	y.mu.Unlock()
	if stopped {
		return
	}
	close(y.stop)
	if running {
		<-y.done
		<-y.sideDone
	}
}

// Finish ends a run that ends by itself: it stops the background uploads
// and leaves each mirrored file in S3 as one object (its base), then
// deletes the segments. An error means S3 does not hold the final files.
func (y *Syncer) Finish(ctx context.Context) error {
	y.stopLoop()
	ctx = context.WithoutCancel(ctx)
	if err := y.Check(); err != nil {
		return err
	}
	if err := y.uploadArchives(ctx, y.mirrors); err != nil {
		return err
	}
	var errs []error
	for _, m := range y.mirrors {
		errs = append(errs, m.Settle(ctx))
	}
	y.syncSide(ctx, (*Mirror).Settle)
	if err := errors.Join(errs...); err != nil {
		if errors.Is(err, ErrPrecondition) {
			y.setFatal(err)
		}
		return err
	}
	y.mu.Lock()
	y.finished = true
	y.mu.Unlock()
	for _, m := range slices.Concat(y.mirrors, y.opts.Side) {
		if err := m.Collect(ctx); err != nil {
			y.s.log.Warn("could not delete S3 segments (harmless: the next run ignores them)", "err", err)
		}
	}
	return nil
}

// Close stops the uploads, settles the mirrors if Finish did not (an
// early return: a refused run's checkpoint header must reach S3 too; a
// failure is logged) and releases the lease. It is safe to call after
// Finish and more than once.
func (y *Syncer) Close(ctx context.Context) error {
	y.stopLoop()
	ctx = context.WithoutCancel(ctx)
	y.mu.Lock()
	finished := y.finished
	y.mu.Unlock()
	if !finished && y.Check() == nil {
		if err := y.Finish(ctx); err != nil {
			y.s.log.Error("could not upload the final report and checkpoint to S3", "err", err)
		}
	}
	if y.lease != nil {
		return y.lease.Release(ctx)
	}
	return nil
}
