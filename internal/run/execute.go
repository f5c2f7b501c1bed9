package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pace"
	"github.com/cogsweep/cogsweep/internal/pacer"
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
	bar       bool // a progress bar was drawn on stderr
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
	jobWrites, stopWatch := p.watchAccount(ctx, writes, a.account) // watch.go
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
	p.observeMetrics(job, p.rows())
	if err := p.attachIdentity(job, a, f); err != nil {
		rw.Close()
		return nil, err
	}
	if err := p.attachRestore(job, a.users); err != nil {
		rw.Close()
		return nil, err
	}
	tl := startTimeline(ctx, p.log, job, f.files, f.resume) // timeline.go
	if f.resume {
		p.log.Info("resuming", "checkpoint", p.checkpointPath, "rows", p.scan.Rows, "settled", f.state.Settled.Count(), "in_flight_before", len(f.prior))
	} else {
		conc := any(workers)
		if gate != nil {
			conc = fmt.Sprintf("auto (%d now, at most %d)", gate.Limit(), workers)
		}
		p.log.Info("starting", "action", o.Action, "rows", p.scan.Rows, "report", p.reportPath, "rate", o.Rate, "start_rate", writes.Rate(), "max_rate", maxRate(o, a.account), "concurrency", conc)
	}
	in, closeIn, err := p.openReader(f.src)
	if err != nil {
		rw.Close()
		return nil, err
	}
	x.stats, x.runErr, x.predicted = p.runJob(ctx, job, in, a.refusal)
	closeIn()
	endTimeline(p.log, tl, x.runErr)
	if x.bar {
		fmt.Fprintln(p.env.Stderr)
	}
	return x, nil
}

// runJob runs the job unless admit refused the run. A dry run goes through
// a guard's refusal to write the whole plan, and keeps the refusal as its
// exit (predicted).
func (r *run) runJob(ctx context.Context, job *batch.Job, in input.Reader, refusal error) (st batch.Stats, runErr, predicted error) {
	var ge *GuardError
	if refusal == nil || (r.o.DryRun && errors.As(refusal, &ge)) {
		st, err := job.Run(ctx, in)
		if err == nil && ge != nil {
			ge.Predicted = true
			predicted = ge
		}
		return st, err, predicted
	}
	return batch.Stats{Counts: map[report.Outcome]int{}, Started: r.now()}, refusal, nil
}

// limiters builds the write limiter and the number of workers. Auto
// starts at the free share the pre-flight planned (account.go), or at
// half of --max-rate when it planned nothing.
func (r *run) limiters(acct *accountPlan) (*pace.Limiter, int) {
	o := r.o
	if o.Rate == "auto" {
		ceiling := maxRate(o, acct)
		cfg := pace.AutoConfig(ceiling)
		if acct != nil && ceiling > 0 {
			cfg.Start = min(acct.free/ceiling, 1)
			cfg.Prior = acct.prior / ceiling // 0 when production is unknown
		}
		return pace.NewLimiter(pace.New(cfg), o.Burst), o.Concurrency
	}
	return pace.NewFixed(r.fixedRate(), o.Burst), o.Concurrency
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

// progress returns the progress reporter, how often to call it and
// whether it draws a bar: a bar redrawn every second when stderr is a
// terminal, else a log line every 10 s (what a CronJob's log collector
// wants).
func (r *run) progress(total int) (func(batch.Stats), time.Duration, bool) {
	mode := r.o.Progress
	if mode == "auto" {
		mode = "log"
		if f, ok := r.env.Stderr.(*os.File); ok && isTerminal(f) {
			mode = "bar"
		}
	}
	if mode == "off" {
		return nil, 0, false
	}
	line := func(s batch.Stats) (rate float64, eta string) {
		if s.Elapsed > 0 {
			rate = float64(s.Rows) / s.Elapsed.Seconds()
		}
		eta = "unknown"
		if rate > 0 && total > s.Rows {
			eta = (time.Duration(float64(total-s.Rows)/rate) * time.Second).Round(time.Second).String()
		}
		return rate, eta
	}
	var thr throttleWindow // progress calls come from one goroutine
	if mode == "bar" {
		return func(s batch.Stats) {
			rate, eta := line(s)
			perMin := thr.perMinute(s.Elapsed, s.Throttles)
			frac := 1.0
			if total > 0 {
				frac = min(1, float64(s.Rows)/float64(total))
			}
			const width = 30
			n := int(frac * width)
			fmt.Fprintf(r.env.Stderr, "\r[%s%s] %3.0f%% %d/%d  %.1f rows/s  limit %.1f/s  %d throttled (%.1f/min)  ETA %s ",
				strings.Repeat("#", n), strings.Repeat("-", width-n), frac*100, s.Rows, total, rate, s.WriteRate, s.Throttles, perMin, eta)
		}, time.Second, true
	}
	return func(s batch.Stats) {
		rate, eta := line(s)
		r.log.Info("progress", "done", s.Rows, "total", total, "rows_per_s", round1(rate),
			"limit_per_s", round1(s.WriteRate), "throttles", s.Throttles,
			"throttles_per_min", round1(thr.perMinute(s.Elapsed, s.Throttles)), "retries", s.Retries, "eta", eta)
	}, 10 * time.Second, false
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
