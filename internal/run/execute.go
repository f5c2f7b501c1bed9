package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pace"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/progress"
	"github.com/cogsweep/cogsweep/internal/report"
)

// executed is what the execute phase made: the report open with the
// rows that got a line, and the pipeline's result.
type executed struct {
	rw     *report.Writer
	sink   *trackingSink
	stats  batch.Stats
	runErr error // the run's own end: nil, interrupted, a fault, a refusal
	// predicted is the guard refusal a dry run forecasts: its exit code.
	predicted error
	bar       *progress.Bar // drawn on stderr; nil without
}

// execute opens the report, starts the storage's uploads and runs the
// batch, unless admit refused the run. The error is a failure before the
// first row (the report or the checkpoint cannot be written).
func (p *plan) execute(ctx context.Context, store Storage, f *opened, a *admission) (*executed, error) {
	o := p.o
	completeAudit(f.header.Audit, a)
	rw, err := report.OpenWriter(f.files.Report, f.header)
	if err != nil {
		return nil, UsageIfSymlink(err)
	}
	x := &executed{rw: rw, sink: &trackingSink{Writer: rw, have: f.state.Have}}
	if _, err := f.journal.StartRun(); err != nil {
		rw.Close()
		return nil, fmt.Errorf("write checkpoint: %w", err)
	}
	intents, err := store.Start(ctx, f.journal)
	if err != nil {
		rw.Close()
		return nil, err
	}
	writes, workers := p.limiters(a.account)
	jobWrites, stopWatch := p.watchAccount(ctx, writes, a.account, account.UserUpdate) // watch.go
	defer stopWatch()
	var gate *pace.Gate
	if workers == 0 {
		workers = maxAutoConcurrency
		gate = pace.NewGate(pace.Concurrency(writes.Rate(), initialLatency+writes.SpreadMax(), minAutoConcurrency, maxAutoConcurrency))
		gctx, stop := context.WithCancel(ctx)
		defer stop()
		go autoConcurrency(gctx, gate, writes)
	}
	opts := batch.NewOptions() // DrainTimeout, MaxStreak; the rest are flags
	opts.Action, opts.Pool, opts.Region, opts.Attributes, opts.DryRun = o.Action, o.UserPoolID, p.region, p.attrs, o.DryRun
	opts.Concurrency, opts.Retry, opts.CallTimeout = workers, p.pacer.Policy(), o.CallTimeout
	opts.ConfirmedPools, opts.OnlyDisabledFor = a.confirmed, o.OnlyDisabledFor
	job := &batch.Job{
		Options: opts,
		Users:   a.users, Writes: jobWrites, Reads: p.pacer.Limiter(pacer.UserRead), Report: x.sink, Intents: intents,
		Skip:      f.state.Settled.Has,
		Include:   p.include(),
		Gate:      gateOrNil(gate),
		Prior:     f.prior,
		Dups:      input.NewTracker(p.scan.Dups),
		Log:       p.log,
		Protected: p.protectedFunc(),
		Now:       p.env.Now,
	}
	total := p.rows() - f.state.Settled.Count()
	job.Progress, job.ProgressEvery, x.bar = p.progress(total)
	if x.bar != nil {
		bctx, stop := context.WithCancel(ctx)
		defer stop()
		x.bar.Watch(bctx)
	}
	p.observeMetrics(job, p.rows())
	if err := p.attachIdentity(job, a, f); err != nil {
		rw.Close()
		return nil, err
	}
	stopCreates, err := p.attachRestore(ctx, job, a.users, a.account)
	if err != nil {
		rw.Close()
		return nil, err
	}
	defer stopCreates()
	tl := startTimeline(ctx, p.log, job, f.files, f.resume) // timeline.go
	p.logStart(f, a, writes, workers, gate)
	in, closeIn, err := p.openReader(f.src)
	if err != nil {
		rw.Close()
		return nil, err
	}
	x.stats, x.runErr, x.predicted = p.runJob(ctx, job, in, a.refusal)
	closeIn()
	endTimeline(p.log, tl, x.runErr)
	if x.bar != nil && a.refusal == nil {
		x.bar.Finish(barFrame(x.stats, total), barState(x.runErr, o.DryRun))
	}
	return x, nil
}

// logStart says where the run begins: resuming a checkpoint, or starting
// with its rate and concurrency (one short sentence at a terminal).
func (p *plan) logStart(f *opened, a *admission, writes *pace.Limiter, workers int, gate *pace.Gate) {
	o := p.o
	if f.resume {
		p.log.Info("resuming", "checkpoint", p.checkpointPath, "rows", p.scan.Rows, "settled", f.state.Settled.Count(), "in_flight_before", len(f.prior))
		return
	}
	conc := any(workers)
	if gate != nil {
		conc = fmt.Sprintf("auto (%d now, at most %d)", gate.Limit(), workers)
	}
	if p.console {
		p.log.Info(fmt.Sprintf("starting %s of %s rows at %.1f writes/s (--rate %s), concurrency %v", o.Action, thousands(p.scan.Rows), writes.Rate(), o.Rate, conc))
		return
	}
	p.log.Info("starting", "action", o.Action, "rows", p.scan.Rows, "report", p.reportPath, "rate", o.Rate, "start_rate", writes.Rate(), "max_rate", maxRate(o, a.account.of(account.UserUpdate)), "concurrency", conc)
}

// runJob runs the job unless admit refused the run. A dry run that a guard
// refuses reads no user (the guards were judged from the row counts and
// the pools' sizes): its plan is what the real run would do, nothing, and
// the refusal is its exit (predicted), not a fault of the dry run.
func (r *run) runJob(ctx context.Context, job *batch.Job, in input.Reader, refusal error) (st batch.Stats, runErr, predicted error) {
	if refusal == nil {
		st, err := job.Run(ctx, in)
		return st, err, nil
	}
	st = batch.Stats{Counts: map[report.Outcome]int{}, Started: r.now()}
	var ge *GuardError
	if r.o.DryRun && errors.As(refusal, &ge) {
		ge.Predicted = true
		return st, nil, ge
	}
	return st, refusal, nil
}

// limiters builds the write limiter and the number of workers. Auto
// starts at the free share the pre-flight planned (account.go), or at
// half of --max-rate when it planned nothing.
func (r *run) limiters(acct *accountPlan) (*pace.Limiter, int) {
	o := r.o
	acct = acct.of(account.UserUpdate)
	if o.Rate == "auto" {
		return autoLimiter(maxRate(o, acct), acct, o.Burst), o.Concurrency
	}
	return pace.NewFixed(r.fixedRate(), o.Burst), o.Concurrency
}

// autoLimiter is --rate auto's limiter under ceiling, started at the free
// share the account plan found (at half the ceiling without one).
func autoLimiter(ceiling float64, acct *accountPlan, burst int) *pace.Limiter {
	cfg := pace.AutoConfig(ceiling)
	if acct != nil && ceiling > 0 {
		cfg.Start = min(acct.free/ceiling, 1)
		cfg.Prior = acct.prior / ceiling // 0 when production is unknown
	}
	return pace.NewLimiter(pace.New(cfg), burst)
}

// fixedRate is --rate when it is a number (Validate checked it).
func (r *run) fixedRate() float64 {
	rate, _ := strconv.ParseFloat(r.o.Rate, 64)
	return rate
}

// gateOrNil keeps a nil *pace.Gate from becoming a non-nil interface.
func gateOrNil(g *pace.Gate) batch.Gate {
	if g == nil {
		return nil
	}
	return g
}

// autoConcurrency sizes the calls in flight from the write limiter's rate
// and the latency it observes plus the limiter's spread (in flight = rate x
// that time, with headroom), so a slow endpoint still reaches the rate and
// a fast one holds no idle connections. It resizes gate every second until
// ctx ends.
func autoConcurrency(ctx context.Context, gate *pace.Gate, lim *pace.Limiter) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lat := lim.Latency()
			if lat <= 0 {
				lat = initialLatency
			}
			gate.SetLimit(pace.Concurrency(lim.Rate(), lat+lim.SpreadMax(), minAutoConcurrency, maxAutoConcurrency))
		}
	}
}

// Bounds of the automatic concurrency. Until latency is observed it is
// sized for 200 ms, a slow Cognito answer.
const (
	initialLatency     = 200 * time.Millisecond
	minAutoConcurrency = 2
	maxAutoConcurrency = 64
)

// progress returns the progress reporter, how often to call it and the
// bar it draws: a bar redrawn every second (newBar: when stderr is a
// terminal), else a log line every 10 s (what a CronJob's log collector
// wants).
func (r *run) progress(total int) (func(batch.Stats), time.Duration, *progress.Bar) {
	if r.o.Progress == "off" {
		return nil, 0, nil
	}
	if bar := r.bar; bar != nil {
		return func(s batch.Stats) { bar.Update(barFrame(s, total)) }, time.Second, bar
	}
	thr := progress.Window{Span: time.Minute} // progress calls come from one goroutine
	return func(s batch.Stats) {
		var rate float64
		if s.Elapsed > 0 {
			rate = float64(s.Rows) / s.Elapsed.Seconds()
		}
		eta := "unknown"
		if rate > 0 && total > s.Rows {
			eta = (time.Duration(float64(total-s.Rows)/rate) * time.Second).Round(time.Second).String()
		}
		r.log.Info("progress", "done", s.Rows, "total", total, "rows_per_s", round1(rate),
			"limit_per_s", round1(s.WriteRate), "throttles", s.Throttles,
			"throttles_per_min", round1(60*thr.Rate(s.Elapsed, s.Throttles)), "retries", s.Retries, "eta", eta,
			"writes", s.Writes, "reads", s.Reads, "read_limit_per_s", round1(s.ReadRate))
	}, 10 * time.Second, nil
}

// barFrame is a snapshot of the pipeline as the bar shows it.
func barFrame(s batch.Stats, total int) progress.Frame {
	return progress.Frame{Done: s.Rows, Total: total, Elapsed: s.Elapsed,
		Writes: s.Writes, Reads: s.Reads, WriteLimit: s.WriteRate, Throttles: s.Throttles}
}

// barState is the final frame's word for how the pipeline ended.
func barState(runErr error, dry bool) string {
	switch {
	case errors.Is(runErr, batch.ErrInterrupted):
		return "interrupted"
	case runErr != nil:
		return "stopped"
	case dry:
		return "planned"
	}
	return "done"
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// maxRate is the write ceiling: the account plan's when the pre-flight read
// the quota, else --max-rate.
func maxRate(o *Options, acct *accountPlan) float64 {
	if acct != nil {
		return acct.maxRate
	}
	return o.MaxRate
}
