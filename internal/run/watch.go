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
// production's load of cat, the outer loop: every --usage-interval it reads
// cat's usage from CloudWatch and holds lim under a ceiling while
// production is being throttled (account.Watch). A run watches the
// category its plan is of: UserUpdate for writes, UserCreation for a
// restore's creates. It returns the limiter the job calls through, which
// counts the job's own calls per minute, and a stop that ends the loop and
// waits for it. Without the first read (denied, no data) the loop stays
// off: the same reads would fail again.
func (r *run) watchAccount(ctx context.Context, lim *pace.Limiter, acct *accountPlan, cat account.Category) (batch.Limiter, func()) {
	acct = acct.of(cat)
	if acct == nil || acct.reader == nil || !acct.usageKnown || r.o.UsageInterval <= 0 || r.o.Rate != "auto" || r.o.DryRun {
		return lim, func() {}
	}
	own := account.NewOwn(r.now)
	w := &account.Watch{
		Reader: acct.reader, Category: cat, Every: r.o.UsageInterval, Lag: UsageLag,
		Timeout: min(r.o.CallTimeout, maxAccountRead), Own: own, Limiter: lim, Outer: pace.DefaultOuter(),
		Now: r.now, Log: r.log,
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(wctx)
	}()
	return ownCounted{Limiter: lim, own: own}, func() {
		cancel()
		wg.Wait()
	}
}

// ownCounted is a limiter that also counts the job's answered
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
