package run

import (
	"context"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/pace"
)

// UsageLag is how old a minute of the usage metrics must be before the
// run judges it: CloudWatch publishes a period over a few minutes.
const UsageLag = 2 * time.Minute

// watchAccount starts, for a --rate auto run whose pre-flight could read
// production's load, the outer loop: every --usage-interval it reads the
// write category's usage from CloudWatch and holds writes under a ceiling
// while production is being throttled (account.Watch). It returns the
// limiter the job writes through, which counts the job's own calls per
// minute, and a stop that ends the loop and waits for it. Without the
// first read (denied, no data) the loop stays off: the same reads would
// fail again.
func (r *run) watchAccount(ctx context.Context, writes *pace.Limiter, acct *accountPlan) (batch.Limiter, func()) {
	// Restore's plan is of its creates, not of these writes: the outer loop
	// watches UserUpdate only (README: what it cannot see).
	acct = acct.of(account.UserUpdate)
	if acct == nil || acct.reader == nil || !acct.usageKnown || r.o.UsageInterval <= 0 || r.o.Rate != "auto" || r.o.DryRun {
		return writes, func() {}
	}
	own := account.NewOwn(r.now)
	w := &account.Watch{
		Reader: acct.reader, Category: account.UserUpdate, Every: r.o.UsageInterval, Lag: UsageLag,
		Timeout: min(r.o.CallTimeout, maxAccountRead), Own: own, Limiter: writes, Outer: pace.DefaultOuter(),
		Now: r.now, Log: r.log,
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(wctx)
	}()
	return ownCounted{Limiter: writes, own: own}, func() {
		cancel()
		wg.Wait()
	}
}

// ownCounted is the write limiter that also counts the job's answered
// calls per minute, the part of the account's usage that is the job's.
type ownCounted struct {
	*pace.Limiter
	own *account.Own
}

func (l ownCounted) Throttled() {
	l.own.Call(true)
	l.Limiter.Throttled()
}

func (l ownCounted) Succeeded(latency time.Duration) {
	l.own.Call(false)
	l.Limiter.Succeeded(latency)
}
