package s3sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// ErrHeld means another run holds the lease and kept renewing it while this
// one waited. *HeldError matches it.
var ErrHeld = errors.New("checkpoint is held by a running cogsweep")

// ErrLeaseLost means this run no longer holds its lease: someone else took
// it over, or it could not be renewed in time.
var ErrLeaseLost = errors.New("lost the checkpoint's lease")

// HeldError names the holder of a lease this run gave up waiting for.
type HeldError struct {
	URL    URL
	Holder string
	Waited time.Duration
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("checkpoint %s is held by a running cogsweep (%s), which kept renewing its lease while this run waited %s",
		e.URL, e.Holder, e.Waited.Round(time.Second))
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// LeaseOptions configure AcquireLease.
type LeaseOptions struct {
	// TTL is how long the lease lasts without renewal (default 30 s). The
	// holder renews it every TTL/3.
	TTL time.Duration
	// Holder says who holds it, for people and logs (default host/pid).
	Holder string
	// Poll is how often a waiter looks at the lease (default TTL/10, within
	// 50 ms and 2 s).
	Poll time.Duration
	// OnWait is called when the lease is found held and each time its
	// holder changes (a log line).
	OnWait func(holder string)
}

// Lease is this run's claim on an S3 checkpoint: the object <checkpoint>.lease,
// created with If-None-Match: * and renewed with If-Match on its last ETag
// every TTL/3 by a background goroutine until Release.
//
// Expiry is judged on each side's own clock, never by comparing clocks: a
// waiter takes the lease over once it has seen the same ETag for a whole
// TTL, and the holder counts itself expired 4/5 of a TTL after it sent its
// last successful renewal. The holder therefore stops (Check fails) before
// any waiter can take over, as long as the two clocks run at about the same
// rate.
type Lease struct {
	s      *Store
	url    URL
	ttl    time.Duration
	holder string

	mu        sync.Mutex
	etag      string
	n         int
	renewedAt time.Time // when the last successful write was sent
	err       error     // set once the lease is lost
	lost      chan struct{}
	// unknown holds the tokens of writes that failed without an answer
	// since the last success, with the time each was sent: one may have
	// landed, and the next If-Match then meets it.
	unknown map[string]time.Time

	stop, done chan struct{}
}

// leaseBody is the lease object's content, for people reading the bucket.
type leaseBody struct {
	Holder    string    `json:"holder"`
	TTLMillis int64     `json:"ttl_ms"`
	N         int       `json:"n"`
	At        time.Time `json:"at"`
}

// LeaseURL is the lease object of the checkpoint at u.
func LeaseURL(u URL) URL { return u.With(".lease") }

// AcquireLease takes the lease of the checkpoint at u and starts renewing
// it. A lease held by another run is waited for: when its holder stops
// renewing it (killed, evicted), it is taken over one TTL after its last
// renewal; when the holder keeps renewing it for two TTLs of waiting, the
// result is a *HeldError. A cancelled ctx stops the wait with ctx's error.
func (s *Store) AcquireLease(ctx context.Context, u URL, o LeaseOptions) (*Lease, error) {
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = host + "/" + strconv.Itoa(os.Getpid())
	}
	if o.Poll <= 0 {
		o.Poll = min(max(o.TTL/10, 50*time.Millisecond), 2*time.Second)
	}
	l := &Lease{s: s, url: LeaseURL(u), ttl: o.TTL, holder: o.Holder, lost: make(chan struct{}),
		unknown: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.acquire(ctx, o); err != nil {
		return nil, err
	}
	go l.renewLoop()
	return l, nil
}

func (l *Lease) acquire(ctx context.Context, o LeaseOptions) error {
	start := time.Now()
	var (
		seen      string // the holder's ETag as last seen
		seenAt    time.Time
		holder    string
		holderTTL = l.ttl
	)
	for {
		err := l.write(ctx, cond{ifNoneMatch: true})
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("take lease: %w", err)
		}
		obj, err := l.s.head(ctx, l.url)
		switch {
		case errors.Is(err, ErrNotFound):
			continue // released meanwhile: try to create it again
		case err != nil:
			return fmt.Errorf("take lease: %w", err)
		}
		now := time.Now()
		if obj.ETag != seen {
			seen, seenAt = obj.ETag, now
			if h := obj.Meta[metaHolder]; h != holder {
				holder = h
				if o.OnWait != nil {
					o.OnWait(holder)
				}
			}
			if ms, err := strconv.ParseInt(obj.Meta[metaTTL], 10, 64); err == nil && ms > 0 {
				holderTTL = time.Duration(ms) * time.Millisecond
			}
		} else if now.Sub(seenAt) >= holderTTL {
			// Unchanged for a whole TTL: its holder is gone. If-Match makes
			// sure only one waiter takes it, and only this version of it.
			err := l.write(ctx, cond{ifMatch: seen})
			if err == nil {
				l.s.log.Info("took over the checkpoint lease of a run that stopped renewing it", "lease", l.url.String(), "previous_holder", holder)
				return nil
			}
			if !errors.Is(err, ErrPrecondition) {
				return fmt.Errorf("take over lease: %w", err)
			}
			continue // someone renewed or took it just now: look again
		}
		if waited := now.Sub(start); waited >= 2*max(l.ttl, holderTTL) {
			return &HeldError{URL: l.url, Holder: holder, Waited: waited}
		}
		t := time.NewTimer(o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// write puts a new version of the lease under c and, on success, records
// its ETag and the time the write was sent. A 412 that meets one of this
// lease's own earlier writes (whose answer was lost) adopts it instead.
func (l *Lease) write(ctx context.Context, c cond) error {
	l.mu.Lock()
	n := l.n + 1
	l.mu.Unlock()
	body, err := json.Marshal(leaseBody{Holder: l.holder, TTLMillis: l.ttl.Milliseconds(), N: n, At: time.Now().UTC()})
	if err != nil {
		return err
	}
	token, sent := newToken(), time.Now()
	etag, err := l.s.put(ctx, l.url, bytes.NewReader(body), int64(len(body)), c,
		map[string]string{metaHolder: l.holder, metaTTL: strconv.FormatInt(l.ttl.Milliseconds(), 10), metaWrite: token})
	switch {
	case err == nil:
	case errors.Is(err, ErrPrecondition):
		o, at, ours := l.earlierWrite(ctx)
		if !ours {
			return err
		}
		etag, sent = o.ETag, at
	default:
		l.mu.Lock()
		l.unknown[token] = sent
		l.mu.Unlock()
		return err
	}
	l.mu.Lock()
	l.etag, l.n, l.renewedAt = etag, n, sent
	clear(l.unknown)
	l.mu.Unlock()
	return nil
}

// earlierWrite reports whether the lease object now is one of this lease's
// writes whose answer was lost, and when that write was sent.
func (l *Lease) earlierWrite(ctx context.Context) (object, time.Time, bool) {
	l.mu.Lock()
	n := len(l.unknown)
	l.mu.Unlock()
	if n == 0 {
		return object{}, time.Time{}, false
	}
	o, err := l.s.head(ctx, l.url)
	if err != nil {
		return object{}, time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.unknown[o.Meta[metaWrite]]
	return o, at, ok
}

func (l *Lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		etag := l.etag
		l.mu.Unlock()
		// Each attempt ends before the next tick, which tries again.
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		err := l.write(ctx, cond{ifMatch: etag})
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, ErrPrecondition):
			l.lose(fmt.Errorf("%w: %s was taken over by another cogsweep", ErrLeaseLost, l.url))
			return
		default:
			l.s.log.Warn("could not renew the checkpoint lease; will try again", "lease", l.url.String(), "err", err)
		}
	}
}

func (l *Lease) lose(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
		close(l.lost)
		l.s.log.Error("lost the checkpoint lease", "lease", l.url.String(), "err", err)
	}
}

// Check returns nil while this run holds the lease and its last renewal is
// recent enough that no waiter can have taken it over; else an error
// matching ErrLeaseLost. Nothing may be written for the checkpoint, nor any
// call made, after it fails.
func (l *Lease) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if age := time.Since(l.renewedAt); age > l.ttl*4/5 {
		return fmt.Errorf("%w: %s not renewed for %s (S3 unreachable?)", ErrLeaseLost, l.url, age.Round(time.Millisecond))
	}
	return nil
}

// Lost is closed when the lease is found taken over.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// URL returns the lease object's address.
func (l *Lease) URL() URL { return l.url }

// Release stops the renewals and deletes the lease (If-Match its last ETag:
// never someone else's), so the next run need not wait for it to expire. It
// is safe to call more than once.
func (l *Lease) Release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
		close(l.stop)
	}
	<-l.done
	l.mu.Lock()
	etag, lost := l.etag, l.err != nil
	l.mu.Unlock()
	if lost {
		return nil
	}
	if err := l.s.del(ctx, l.url, etag); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return nil // taken over meanwhile: it is no longer ours to delete
		}
		return fmt.Errorf("release lease: %w", err)
	}
	l.mu.Lock()
	l.err = fmt.Errorf("%w: released", ErrLeaseLost)
	close(l.lost)
	l.mu.Unlock()
	return nil
}
