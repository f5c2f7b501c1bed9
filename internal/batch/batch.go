// Package batch is the pipeline of a run: rows from a reader are validated,
// handed to a fixed pool of workers that call Cognito under shared rate
// limiters, and their outcomes are written by a single collector.
package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/redact"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// Limiter paces calls of one quota category. Every attempt takes a token,
// retries included: the service counts attempts, not rows.
type Limiter interface {
	Wait(ctx context.Context) error
	Throttled()
	Succeeded(latency time.Duration)
	Rate() float64
}

// Gate bounds how many rows are in flight at once.
type Gate interface {
	Acquire(ctx context.Context) error
	Release()
}

// Sink receives the final outcome of each row, one call per row, from a
// single goroutine.
type Sink interface {
	Write(r *report.Record) error
	Sync() error
}

// IntentLog durably notes, before a mutating call, that the call may reach
// the service, so a later attempt after a crash knows it.
type IntentLog interface {
	Intent(row int, read string) error
	Sync() error
}

// Read results journaled with an intent.
const (
	ReadEnabled  = "enabled"
	ReadDisabled = "disabled"
	ReadNone     = "" // the action made no read before its mutating call
)

// Options is what to do with each row.
type Options struct {
	Action Action
	// Pool is --user-pool-id: the pool of rows that name none.
	Pool string
	// Region is the run's region; a row naming a pool of another region is
	// invalid rather than a call that could never succeed.
	Region     string
	Attributes []string
	DryRun     bool
	// Concurrency is the number of workers, and so the most mutating calls a
	// kill can leave in flight.
	Concurrency  int
	Retry        retry.Policy
	CallTimeout  time.Duration
	DrainTimeout time.Duration
	// MaxStreak rows in a row that fail after every retry (or are refused by
	// a WAF) stop the run: the service, not the rows, is the problem.
	MaxStreak int
	// ConfirmedPools, when not nil, are the only pools a destructive action
	// may touch; rows naming another pool are invalid.
	ConfirmedPools map[string]bool
	// OnlyDisabledFor, for delete, deletes only users that are disabled and
	// were last modified at least this long ago.
	OnlyDisabledFor time.Duration
}

// NewOptions returns the defaults the CLI documents.
func NewOptions() Options {
	return Options{
		Concurrency:  8,
		Retry:        retry.DefaultPolicy(),
		CallTimeout:  10 * time.Second,
		DrainTimeout: 20 * time.Second,
		MaxStreak:    10,
	}
}

// Job is one run of the pipeline.
type Job struct {
	Options
	Users   cognito.Users
	Writes  Limiter // UserUpdate calls
	Reads   Limiter // AdminGetUser
	Report  Sink
	Intents IntentLog

	// Skip reports rows that an earlier run settled; they are not called
	// again but still count for duplicate detection.
	Skip func(row int) bool
	// Include selects the rows of this shard (nil: all).
	Include func(input.Row) bool
	// Prior holds the intents earlier runs journaled for unsettled rows.
	Prior map[int]string
	// Gate, when set, bounds the rows in flight below the number of
	// workers; the caller resizes it as it learns the latency.
	Gate Gate
	// Dups detects repeated users; nil disables detection.
	Dups *input.Tracker
	// Protected reports users that must never be touched (nil: none).
	Protected func(pool, username string) bool

	// Email rows and backups (resolve.go, backup.go). Lookups nil: email
	// rows are invalid. Lists paces ListUsers (UserList quota). Pools
	// caches DescribeUserPool (nil: one call per email row). Resolved
	// detects duplicates among rows resolved by ListUsers (nil: none).
	// Backup, for delete, keeps each user before its deletion (nil: none).
	Lookups  Lookups
	Lists    Limiter
	Pools    *PoolCache
	Resolved *ResolvedUsers
	Backup   Backup
	// Missing are the pools found not to exist, seeded with those the
	// pre-flight described (nil: Run starts an empty set); see pools.go.
	Missing *MissingPools

	Log           *slog.Logger
	Progress      func(Stats)
	ProgressEvery time.Duration
	Now           func() time.Time
}

// Stats counts what a run did.
type Stats struct {
	Counts    map[report.Outcome]int
	Rows      int // rows given an outcome by this run
	Skipped   int // rows settled by an earlier run
	Calls     int
	Throttles int
	Retries   int
	Repeated  int
	Started   time.Time
	Elapsed   time.Duration
	WriteRate float64 // the write limiter's rate at the end
}

// CallRate is the achieved rate of calls per second.
func (s Stats) CallRate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Calls) / s.Elapsed.Seconds()
}

// FatalError is a run-wide fault: the run stopped dispatching because of it.
type FatalError struct {
	Code string // the AWS error code or our own name for the fault
	Row  int    // the row whose call met it
	Err  error
}

// Error is the fault's text, which goes to the log, stderr and the
// checkpoint: a row's faults were scrubbed of its token when made (fatal),
// and JWT shapes are removed here from any fault's text.
func (e *FatalError) Error() string {
	if e.Row == 0 {
		return redact.Text(fmt.Sprintf("%s: %v", e.Code, e.Err))
	}
	return redact.Text(fmt.Sprintf("run stopped at row %d: %s: %v", e.Row, e.Code, e.Err))
}

func (e *FatalError) Unwrap() error { return e.Err }

// ErrInterrupted is returned when the parent context was cancelled (a signal):
// the run drained its in-flight calls and stopped.
var ErrInterrupted = errors.New("interrupted")

// task is a callable row and the user it names; the worker resolves an
// email row's username (resolve.go).
type task struct {
	row input.Row
	target.Target
}

type result struct {
	rec       report.Record
	calls     int
	throttles int
	retries   int  // attempts after the first, summed over the row's calls
	transient bool // failed after every retry on a transient error
	forbidden bool
	// ack, when set, is signalled once the outcome is written: a worker
	// takes no new row before, so a kill leaves at most one unwritten
	// outcome per worker and repeats stay bounded by the concurrency.
	ack chan struct{}
}

// Run processes every row of rows. It returns nil when all rows were
// handled, ErrInterrupted after ctx was cancelled, a *FatalError after a
// run-wide fault, or an error of the reader or the sink. Rows not reached
// get no outcome here: the caller fills them in as not_attempted.
func (j *Job) Run(ctx context.Context, rows input.Reader) (Stats, error) {
	now := j.Now
	if now == nil {
		now = time.Now
	}
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workers := max(j.Concurrency, 1)
	if j.Missing == nil {
		j.Missing = NewMissingPools()
	}

	// dispatch stops on a signal or a fatal fault; calls already sent keep
	// callCtx, which outlives dispatch by at most DrainTimeout.
	dispatch, stopDispatch := context.WithCancelCause(ctx)
	defer stopDispatch(nil)
	callCtx, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	go func() {
		<-dispatch.Done()
		if callCtx.Err() == nil {
			log.Info("stopped dispatching rows; letting calls in flight finish", "cause", context.Cause(dispatch), "drain_timeout", j.DrainTimeout)
		}
		if j.DrainTimeout > 0 {
			t := time.NewTimer(j.DrainTimeout)
			defer t.Stop()
			select {
			case <-t.C:
			case <-callCtx.Done():
			}
		}
		cancelCalls()
	}()

	var (
		fatalOnce sync.Once
		fatal     *FatalError
	)
	fail := func(f *FatalError) {
		fatalOnce.Do(func() {
			fatal = f
			stopDispatch(f)
		})
	}

	st := Stats{Counts: map[report.Outcome]int{}, Started: now()}
	work := make(chan task, workers)
	results := make(chan result)

	g, _ := errgroup.WithContext(context.Background())
	var readErr error
	g.Go(func() error {
		defer close(work)
		readErr = j.produce(dispatch, rows, work, results, &st)
		if readErr != nil {
			stopDispatch(readErr)
		}
		return nil
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack := make(chan struct{}, 1)
			for t := range work {
				if dispatch.Err() != nil {
					continue // not reached: filled in as not_attempted
				}
				if j.Gate != nil {
					if j.Gate.Acquire(dispatch) != nil {
						continue
					}
				}
				res := j.handle(dispatch, callCtx, t, fail)
				res.ack = ack
				results <- res
				<-ack
				if j.Gate != nil {
					j.Gate.Release()
				}
			}
		}()
	}
	go func() {
		_ = g.Wait()
		wg.Wait()
		close(results)
	}()

	sinkErr := j.collect(results, &st, now, fail)
	st.Elapsed = now().Sub(st.Started)
	if j.Writes != nil {
		st.WriteRate = j.Writes.Rate()
	}
	switch {
	case sinkErr != nil:
		return st, sinkErr
	case readErr != nil:
		return st, fmt.Errorf("read input: %w", readErr)
	case fatal != nil:
		return st, fatal
	case ctx.Err() != nil:
		return st, ErrInterrupted
	}
	return st, nil
}

// produce validates rows in order and hands the callable ones to workers.
// Rows decided without a call (invalid, duplicate, protected) go straight to
// the collector, so their order in the report follows the input closely.
func (j *Job) produce(ctx context.Context, rows input.Reader, work chan<- task, results chan<- result, st *Stats) error {
	for ctx.Err() == nil {
		row, err := rows.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if j.Include != nil && !j.Include(row) {
			continue
		}
		t, rec := j.prepareFrom(rows, row)
		if j.Skip != nil && j.Skip(row.N) {
			st.Skipped++ // only the producer writes Skipped until Run returns
			continue
		}
		if rec != nil {
			select {
			case results <- result{rec: *rec}:
			case <-ctx.Done():
				return nil
			}
			continue
		}
		select {
		case work <- t:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// collect is the one writer of outcomes. It returns the first sink error;
// after one it stops the run (the report is the product: no point going on
// without it).
func (j *Job) collect(results <-chan result, st *Stats, now func() time.Time, fail func(*FatalError)) error {
	c := collector{j: j, st: st, now: now, fail: fail, lastSync: now(), lastProgress: now()}
	for r := range results {
		if c.err == nil {
			c.handle(&r)
		}
		if r.ack != nil {
			r.ack <- struct{}{}
		}
	}
	if c.err == nil {
		c.err = j.sync()
	}
	return c.err
}

type collector struct {
	j                      *Job
	st                     *Stats
	now                    func() time.Time
	fail                   func(*FatalError)
	err                    error
	streak, forbidden      int
	unsynced               int
	lastSync, lastProgress time.Time
}

func (c *collector) handle(r *result) {
	j, st := c.j, c.st
	if err := j.Report.Write(&r.rec); err != nil {
		c.err = fmt.Errorf("write report: %w", err)
		c.fail(&FatalError{Code: "ReportWriteFailed", Row: r.rec.Row, Err: err})
		return
	}
	c.unsynced++
	st.Rows++
	st.Counts[r.rec.Outcome]++
	st.Calls += r.calls
	st.Throttles += r.throttles
	st.Retries += r.retries
	if r.rec.Repeated {
		st.Repeated++
	}
	c.streak = bump(c.streak, r.transient, r.calls > 0)
	c.forbidden = bump(c.forbidden, r.forbidden, r.calls > 0)
	if j.MaxStreak > 0 && (c.streak >= j.MaxStreak || c.forbidden >= j.MaxStreak) {
		code, why := r.rec.ErrorCode, "failed after every retry"
		if c.forbidden >= j.MaxStreak {
			why = "were refused by the service's firewall (WAF)"
		}
		c.fail(&FatalError{Code: code, Row: r.rec.Row,
			Err: fmt.Errorf("%d rows in a row %s (%s): the service is failing, not the rows", j.MaxStreak, why, code)})
	}
	t := c.now()
	// Group fsync: every 256 outcomes or 200 ms, whichever comes first.
	if c.unsynced >= 256 || t.Sub(c.lastSync) >= 200*time.Millisecond {
		if err := j.sync(); err != nil {
			c.err = err
			c.fail(&FatalError{Code: "ReportWriteFailed", Row: r.rec.Row, Err: err})
			return
		}
		c.unsynced, c.lastSync = 0, t
	}
	every := j.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	if j.Progress != nil && t.Sub(c.lastProgress) >= every {
		c.lastProgress = t
		snap := *st
		snap.Elapsed = t.Sub(st.Started)
		if j.Writes != nil {
			snap.WriteRate = j.Writes.Rate()
		}
		j.Progress(snap)
	}
}

func bump(n int, hit, called bool) int {
	switch {
	case hit:
		return n + 1
	case called:
		return 0
	}
	return n
}

func (j *Job) sync() error {
	if err := j.Report.Sync(); err != nil {
		return fmt.Errorf("sync report: %w", err)
	}
	if j.Intents != nil {
		if err := j.Intents.Sync(); err != nil {
			return fmt.Errorf("sync checkpoint: %w", err)
		}
	}
	return nil
}
