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

	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// Run processes every row of rows. It returns nil when all rows were
// handled, ErrInterrupted after ctx was cancelled, a *retry.FatalError after a
// run-wide fault, or an error of the reader or the sink. Rows not reached
// get no outcome here: the caller fills them in as not_attempted.
func (j *Job) Run(ctx context.Context, rows input.Reader) (Stats, error) {
	if j.Missing == nil {
		j.Missing = NewMissingPools()
	}
	p := j.newPipeline(ctx)
	defer p.close()
	st := Stats{Counts: map[report.Outcome]int{}, Started: j.now()}
	results := p.start(rows, &st)
	sinkErr := j.collect(results, &st, p.fail)
	st.Elapsed = j.now().Sub(st.Started)
	st.WriteRate, st.ReadRate = j.rates()
	switch {
	case sinkErr != nil:
		return st, sinkErr
	case p.readErr != nil:
		return st, fmt.Errorf("read input: %w", p.readErr)
	case p.fatal != nil:
		return st, p.fatal
	case ctx.Err() != nil:
		return st, ErrInterrupted
	}
	return st, nil
}

// pipeline is one Run's reader and workers, and how they stop: dispatch
// ends on a signal or a fatal fault; calls already sent keep callCtx, which
// outlives dispatch by at most DrainTimeout.
type pipeline struct {
	j                 *Job
	dispatch, callCtx context.Context
	stopDispatch      context.CancelCauseFunc
	cancelCalls       context.CancelFunc
	fatalOnce         sync.Once
	fatal             *retry.FatalError // the first fault; read once results is closed
	readErr           error             // the reader's; read once results is closed
}

func (j *Job) newPipeline(ctx context.Context) *pipeline {
	p := &pipeline{j: j}
	p.dispatch, p.stopDispatch = context.WithCancelCause(ctx)
	p.callCtx, p.cancelCalls = context.WithCancel(context.WithoutCancel(ctx))
	go p.drain()
	return p
}

// drain ends the calls in flight DrainTimeout after dispatch stopped.
func (p *pipeline) drain() {
	<-p.dispatch.Done()
	if p.callCtx.Err() == nil {
		p.j.log().Info("stopped dispatching rows; letting calls in flight finish", "cause", context.Cause(p.dispatch), "drain_timeout", p.j.DrainTimeout)
	}
	if p.j.DrainTimeout > 0 {
		t := time.NewTimer(p.j.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.callCtx.Done():
		}
	}
	p.cancelCalls()
}

// close ends a finished run's contexts: the calls first, so that drain
// does not take the end of the run for a stop.
func (p *pipeline) close() {
	p.cancelCalls()
	p.stopDispatch(nil)
}

// fail stops dispatching for the run's first run-wide fault.
func (p *pipeline) fail(f *retry.FatalError) {
	p.fatalOnce.Do(func() {
		p.fatal = f
		p.stopDispatch(f)
	})
}

// start runs the reader and the workers; the channel they send outcomes
// on is closed once both are done.
func (p *pipeline) start(rows input.Reader, st *Stats) <-chan result {
	workers := max(p.j.Concurrency, 1)
	work := make(chan task, workers)
	results := make(chan result)
	g, _ := errgroup.WithContext(context.Background())
	g.Go(func() error {
		defer close(work)
		p.readErr = p.j.produce(p.dispatch, rows, work, results, st)
		if p.readErr != nil {
			p.stopDispatch(p.readErr)
		}
		return nil
	})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(work, results)
		}()
	}
	go func() {
		_ = g.Wait()
		wg.Wait()
		close(results)
	}()
	return results
}

// work is one worker: it runs rows until work is closed, one at a time.
// Once the run stops dispatching, the rows left are not reached: the
// caller fills them in as not_attempted.
func (p *pipeline) work(work <-chan task, results chan<- result) {
	j := p.j
	ack := make(chan struct{}, 1)
	for t := range work {
		if p.dispatch.Err() != nil {
			continue
		}
		if j.Gate != nil && j.Gate.Acquire(p.dispatch) != nil {
			continue
		}
		res := j.handle(p.dispatch, p.callCtx, t, p.fail)
		res.ack = ack
		results <- res
		<-ack
		if j.Gate != nil {
			j.Gate.Release()
		}
	}
}

func (j *Job) log() *slog.Logger {
	if j.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Log
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
