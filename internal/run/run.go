package run

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pace"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/progress"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// Run runs one action with options given (validated) as shard sh of its
// job. It leaves given as it was: the run works on its own copy.
func Run(ctx context.Context, given *Options, sh Shard, env Env) error {
	o := given.clone()
	o.perShard(sh.Count) // rates are job-wide totals; before anything reads them
	r := newRun(o, sh, env)
	if err := r.startMetrics(ctx); err != nil {
		return err
	}
	err := r.do(ctx)
	r.finishMetrics(ctx, err)
	return err
}

// run is what one invocation of an action is given: its options, its
// environment, its shard. The phases' products are their own types: plan,
// opened, admission, executed.
type run struct {
	o       *Options
	env     Env
	log     *slog.Logger
	shard   Shard       // see shard.go
	metrics *runMetrics // --pushgateway; nil without
	// pacer makes every call outside the pipeline's loop, and holds the
	// limiters of the quotas the pipeline shares with it (UserRead,
	// UserList: shared with production, like the others).
	pacer *pacer.Pacer
	// bar is the progress bar on stderr (nil without one); console says
	// the log is for a person at a terminal (short lines, see terminal.go).
	bar     *progress.Bar
	console bool
}

// newRun is the run of options o (rates already this shard's).
func newRun(o *Options, sh Shard, env Env) *run {
	r := &run{o: o, env: env, shard: sh}
	r.bar = r.newBar()            // terminal.go
	r.log, r.console = r.logger() // terminal.go
	r.pacer = pacer.New(pacer.Options{Policy: r.policy(), Timeout: o.CallTimeout, Limiters: map[pacer.Category]pacer.Limiter{
		pacer.UserRead: pace.NewFixed(o.ReadRate, o.Burst),
		pacer.UserList: pace.NewFixed(o.ListRate, 1),
	}})
	return r
}

// do is the life of the run, phase by phase: each returns what it made
// and the next takes it. Until admit, no call can change anything; settle
// runs whenever execute did, so a run that ends by itself leaves one report
// line per row.
func (r *run) do(ctx context.Context) error {
	store, err := newStorage(ctx, r.o, r.env, r.log, r.region)
	if err != nil {
		return err
	}
	if r.o, err = implied(r.o); err != nil {
		return err
	}
	p, err := r.plan(ctx, store) // plan.go: input scanned, region, paths, fingerprint
	defer p.close()
	if err != nil {
		return err
	}
	defer store.Close(ctx)
	f, err := p.open(ctx, store) // open.go: report, checkpoint, lock, resume state
	defer f.close()
	if err != nil {
		return err
	}
	a, err := p.admit(ctx, f) // admit.go: pre-flight, confirmation, guards
	defer a.close(p.log)
	if err != nil {
		return err
	}
	x, err := p.execute(ctx, store, f, a) // execute.go: the batch
	if err != nil {
		return err
	}
	return p.settle(ctx, store, f, x) // settle.go: not_attempted rows, compaction, summary
}

// implied completes the options with what they imply but do not say
// (rollback.go's source run, selection.go's preset), before any phase reads
// them: the phases then take the options as they are.
func implied(o *Options) (*Options, error) {
	switch {
	case o.Action == batch.Rollback:
		return sourceRun(o)
	case o.Select != "" && o.Input == "":
		return presetSelection(o), nil
	}
	return o, nil
}

// region is --region, else the SDK's (AWS_REGION), else the pool id's
// prefix.
func (r *run) region() (string, error) {
	if r.o.Region != "" {
		return r.o.Region, nil
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := r.env.Getenv(k); v != "" {
			return v, nil
		}
	}
	if p := input.PoolRegion(r.o.UserPoolID); p != "" {
		return p, nil
	}
	if r.o.Profile != "" {
		return "", nil // the profile may name one; LoadAWSConfig checks
	}
	return "", errors.New("no region: give --region, set AWS_REGION, or give --user-pool-id (its prefix is the region)")
}

// regionSource names where region() found the run's region.
func (r *run) regionSource() string {
	if r.o.Region != "" {
		return "--region"
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r.env.Getenv(k) != "" {
			return k
		}
	}
	return "the pool id"
}

func (r *run) policy() retry.Policy {
	p := batch.NewOptions().Retry
	p.MaxAttempts = r.o.MaxAttempts
	return p
}
