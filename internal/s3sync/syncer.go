package s3sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// IntentLog is the method set of batch.IntentLog, which Syncer.Intents
// wraps (this package does not import batch).
type IntentLog interface {
	Intent(row int, read string) error
	Sync() error
}

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
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
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
			for _, m := range y.mirrors {
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

// Intents wraps a checkpoint's intent log: an intent counts as written only
// once it is in S3. What is not in S3 does not exist for the next pod, so a
// mutating call must not start before its intent is uploaded. Because a
// worker's previous outcome is written before it journals its next intent,
// the same upload carries that outcome too: at most one row per worker has
// its intent in S3 and its outcome not.
func (y *Syncer) Intents(inner IntentLog) IntentLog { return &intentLog{inner: inner, y: y} }

type intentLog struct {
	inner IntentLog
	y     *Syncer
}

func (l *intentLog) Intent(row int, read string) error {
	if err := l.y.Check(); err != nil {
		return err
	}
	if err := l.inner.Intent(row, read); err != nil {
		return err
	}
	if err := l.y.Durable(); err != nil {
		return fmt.Errorf("upload checkpoint: %w", err)
	}
	return nil
}

func (l *intentLog) Sync() error { return l.inner.Sync() }

// flush uploads archived files, then every mirror, in parallel.
func (y *Syncer) flush(ctx context.Context) error {
	if err := y.Check(); err != nil {
		return err
	}
	if err := y.uploadArchives(ctx); err != nil {
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

// archiveSuffix is what checkpoint.Archive adds to a name: a UTC timestamp,
// and -N when that name was taken.
var archiveSuffix = regexp.MustCompile(`^\.\d{8}T\d{6}Z(-\d+)?$`)

// uploadArchives copies the files archived beside the mirrored ones to S3,
// beside the mirrored objects, before the mirrors' new content replaces the
// old: S3 never loses a run that was archived locally. An archive is never
// overwritten (If-None-Match); an object already there of the same size is
// taken for this file's earlier upload.
func (y *Syncer) uploadArchives(ctx context.Context) error {
	for _, m := range y.mirrors {
		dir, base := filepath.Dir(m.local), filepath.Base(m.local)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("list archives: %w", err)
		}
		for _, e := range ents {
			suffix, ok := strings.CutPrefix(e.Name(), base)
			path := filepath.Join(dir, e.Name())
			if !ok || !archiveSuffix.MatchString(suffix) || y.isArchived(path) {
				continue
			}
			if err := y.uploadArchive(ctx, path, m.url.With(suffix)); err != nil {
				return err
			}
			y.mu.Lock()
			y.archived[path] = true
			y.mu.Unlock()
			y.s.log.Info("archived the previous run in S3", "object", m.url.With(suffix).String())
		}
	}
	return nil
}

func (y *Syncer) isArchived(path string) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.archived[path]
}

func (y *Syncer) uploadArchive(ctx context.Context, path string, u URL) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload archive: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload archive: %w", err)
	}
	for i := 0; i < 10; i++ {
		dst := u
		if i > 0 {
			dst = u.With(fmt.Sprintf("-s3-%d", i))
		}
		_, err := y.s.put(ctx, dst, f, fi.Size(), cond{ifNoneMatch: true}, nil)
		if !errors.Is(err, ErrPrecondition) {
			if err != nil {
				return fmt.Errorf("upload archive: %w", err)
			}
			return nil
		}
		if o, herr := y.s.head(ctx, dst); herr == nil && o.Size == fi.Size() {
			return nil
		}
	}
	return fmt.Errorf("upload archive %s: every name is taken", u)
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
	if err := y.uploadArchives(ctx); err != nil {
		return err
	}
	var errs []error
	for _, m := range y.mirrors {
		errs = append(errs, m.Settle(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		if errors.Is(err, ErrPrecondition) {
			y.setFatal(err)
		}
		return err
	}
	y.mu.Lock()
	y.finished = true
	y.mu.Unlock()
	for _, m := range y.mirrors {
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
