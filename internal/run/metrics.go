package run

import (
	"context"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/metrics"
	"github.com/cogsweep/cogsweep/internal/report"
)

// metricsEvery is how often a running job pushes its progress.
const metricsEvery = 30 * time.Second

// runMetrics is a run's link to --pushgateway: nil without it.
type runMetrics struct {
	p    *metrics.Pusher
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// startMetrics starts pushing every metricsEvery until finishMetrics.
func (r *run) startMetrics(ctx context.Context) error {
	if r.o.Pushgateway == "" {
		return nil
	}
	shard := "all"
	if r.shard.Sharded() {
		shard = r.shard.Tag()[len("shard-"):]
	}
	// A dry run does not do the job: it must not set the job's last
	// success, so it pushes to a group of its own.
	action := string(r.o.Action)
	if r.o.DryRun {
		action += "-dry-run"
	}
	p, err := metrics.New(metrics.Config{
		URL: r.o.Pushgateway, Job: r.o.PushgatewayJob, Action: action, Shard: shard, Log: r.log,
	})
	if err != nil {
		return usage(err)
	}
	ctx, stop := context.WithCancel(ctx)
	m := &runMetrics{p: p, stop: stop}
	m.wg.Go(func() { p.Run(ctx, metricsEvery) })
	r.metrics = m
	return nil
}

// observeMetrics feeds the progress snapshots of job to the pusher.
func (r *run) observeMetrics(job *batch.Job, rows int) {
	if r.metrics == nil {
		return
	}
	next := job.Progress
	job.Progress = func(s batch.Stats) {
		r.metrics.p.Observe(snapshotOf(s, s.Counts, rows))
		if next != nil {
			next(s)
		}
	}
}

// endMetrics records the run's totals and its report's final counts.
func (r *run) endMetrics(s batch.Stats, counts map[report.Outcome]int, rows int) {
	if r.metrics != nil {
		r.metrics.p.Observe(snapshotOf(s, counts, rows))
	}
}

// finishMetrics stops the periodic pushes and pushes the result. A push
// failure is logged by the pusher and never changes the exit code. It
// outlives a signal: the result of an interrupted run is worth sending.
func (r *run) finishMetrics(ctx context.Context, runErr error) {
	m := r.metrics
	if m == nil {
		return
	}
	m.stop()
	m.wg.Wait()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = m.p.Finish(ctx, ExitCode(runErr))
}

func snapshotOf(s batch.Stats, counts map[report.Outcome]int, rows int) metrics.Snapshot {
	return metrics.Snapshot{
		Counts: counts, Rows: rows, Calls: s.Calls, Throttles: s.Throttles, Retries: s.Retries,
		Elapsed: s.Elapsed, Limit: s.WriteRate,
	}
}
