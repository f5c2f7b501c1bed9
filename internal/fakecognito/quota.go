package fakecognito

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Category is a Cognito request-rate quota category. Every pool of the
// account draws from the same bucket of a category, as in the real service.
type Category string

// The quota categories the fake enforces.
const (
	UserUpdate Category = "UserUpdate" // AdminDeleteUser, AdminDisableUser, DeleteUser, ...
	UserRead   Category = "UserRead"   // AdminGetUser
	UserList   Category = "UserList"   // ListUsers, ListUsersInGroup
)

// Quota is a token bucket: Rate requests per second, at most Burst at once.
// A zero Rate means unlimited. A Burst below 1 counts as 1.
type Quota struct {
	Rate  float64
	Burst int
}

// nano is one token in the bucket's fixed-point unit: integer arithmetic keeps
// "10/s for 1 s gives exactly 10" exact, which float accumulation does not.
const nano = 1e9

// bucket is a token bucket driven by explicit times, so a fake clock makes it
// deterministic. It is not safe for concurrent use; Server guards it.
type bucket struct {
	rate   float64
	burst  int64 // in nano units
	tokens int64 // in nano units
	last   time.Time
}

func newBucket(q Quota, now time.Time) bucket {
	burst := int64(max(q.Burst, 1)) * nano
	return bucket{rate: q.Rate, burst: burst, tokens: burst, last: now}
}

// take spends one token at now and reports whether there was one.
func (b *bucket) take(now time.Time) bool {
	if b.rate <= 0 {
		return true
	}
	if d := now.Sub(b.last); d > 0 {
		add := math.Round(float64(d) * b.rate) // ns * tokens/s = nano-tokens
		if add >= float64(b.burst) {
			b.tokens = b.burst
		} else {
			b.tokens = min(b.burst, b.tokens+int64(add))
		}
		b.last = now
	}
	if b.tokens >= nano {
		b.tokens -= nano
		return true
	}
	return false
}

// Step is one change of the competing production traffic's mean rate: from
// After (measured from the start of the traffic) on, calls arrive Rate times
// per second, spread as the Production's Pattern says. A zero Rate pauses the
// traffic until the next step.
type Step struct {
	After time.Duration
	Rate  float64
}

// Pattern is how production's calls arrive at a step's mean rate.
type Pattern int

const (
	// Even spaces the calls exactly 1/Rate apart (the default).
	Even Pattern = iota
	// Poisson draws exponential gaps: calls arrive at random.
	Poisson
	// Bursty sends BurstFactor times the mean rate, at random, for BurstOn
	// out of every BurstPeriod, and nothing in between.
	Bursty
)

// The bursty pattern: 2 s at 3x the mean rate, then 4 s quiet. They are
// the simulator's (internal/pace/sim), so that a live run and a simulated
// one see the same production.
const (
	BurstFactor = 3.0
	BurstOn     = 2 * time.Second
	BurstPeriod = 6 * time.Second
)

var patternNames = [...]string{Even: "even", Poisson: "poisson", Bursty: "bursty"}

func (p Pattern) String() string {
	if p < 0 || int(p) >= len(patternNames) {
		return fmt.Sprintf("Pattern(%d)", int(p))
	}
	return patternNames[p]
}

// ParsePattern reads a pattern's name: even, poisson or bursty.
func ParsePattern(name string) (Pattern, error) {
	for p, n := range patternNames {
		if n == name {
			return Pattern(p), nil
		}
	}
	return 0, fmt.Errorf("production pattern %q: want even, poisson or bursty", name)
}

// Production is the account's own traffic competing for the UserUpdate
// quota.
type Production struct {
	Schedule []Step
	Pattern  Pattern
	// Seed draws the random arrivals (Poisson, Bursty): the same seed
	// gives the same calls at the same offsets.
	Seed uint64
}

// StartProduction starts evenly spaced production traffic on schedule; see
// StartProductionWith.
func (s *Server) StartProduction(ctx context.Context, schedule []Step) <-chan struct{} {
	return s.StartProductionWith(ctx, Production{Schedule: schedule})
}

// StartProductionWith simulates the account's own production traffic
// competing for the UserUpdate quota: calls arrive as p says and each takes
// a UserUpdate token, without HTTP. A call that finds the bucket empty fails
// (ProductionThrottled); the others succeed (ProductionServed). The last
// step lasts until ctx ends. The returned channel closes when the traffic
// stops.
func (s *Server) StartProductionWith(ctx context.Context, p Production) <-chan struct{} {
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		s.runProduction(ctx, p, func(ctx context.Context, off time.Duration) bool {
			if off == forever {
				<-ctx.Done()
				return false
			}
			t := time.NewTimer(max(off-time.Since(start), 0))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
				return true
			}
		})
	}()
	return done
}

// forever is the end of the last step.
const forever = time.Duration(math.MaxInt64)

// runProduction walks the schedule; waitUntil blocks until offset off from
// the start (false: stop). Tests pass a waitUntil that moves the fake clock.
func (s *Server) runProduction(ctx context.Context, p Production, waitUntil func(context.Context, time.Duration) bool) {
	steps := append([]Step(nil), p.Schedule...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].After < steps[j].After })
	rng := rand.New(rand.NewPCG(p.Seed, 0x70726f64)) // "prod"
	for i, st := range steps {
		end := forever
		if i+1 < len(steps) {
			end = steps[i+1].After
		}
		if st.Rate > 0 {
			var ok bool
			if p.Pattern == Even {
				ok = s.evenStep(ctx, st, end, waitUntil)
			} else {
				ok = s.randomStep(ctx, st, end, p.Pattern, rng, waitUntil)
			}
			if !ok {
				return
			}
		}
		if !waitUntil(ctx, end) {
			return
		}
	}
	waitUntil(ctx, forever)
}

// evenStep sends st's calls exactly 1/Rate apart, counted from the step's
// start so that rounding does not accumulate.
func (s *Server) evenStep(ctx context.Context, st Step, end time.Duration, waitUntil func(context.Context, time.Duration) bool) bool {
	interval := max(time.Duration(float64(time.Second)/st.Rate), 1)
	for k := int64(1); ; k++ {
		at := st.After + time.Duration(k)*interval
		if at >= end {
			return true
		}
		if !waitUntil(ctx, at) {
			return false
		}
		s.productionCall()
	}
}

// randomStep sends st's calls with exponential gaps at the pattern's
// instantaneous rate. The draws are memoryless, so a gap that crosses a
// change of rate (a burst's edge) is drawn again from the change, as the
// simulator does.
func (s *Server) randomStep(ctx context.Context, st Step, end time.Duration, pat Pattern, rng *rand.Rand, waitUntil func(context.Context, time.Duration) bool) bool {
	for t := st.After; t < end; {
		rate, until := intensity(pat, st.Rate, t, end)
		if rate <= 0 {
			t = until
			continue
		}
		gap := rng.ExpFloat64() / rate * float64(time.Second)
		if gap >= float64(until-t) {
			t = until
			continue
		}
		t += max(time.Duration(gap), 1)
		if !waitUntil(ctx, t) {
			return false
		}
		s.productionCall()
	}
	return true
}

// intensity is production's instantaneous rate at offset t for a step of
// mean rate, and when it next changes (at the latest end).
func intensity(pat Pattern, mean float64, t, end time.Duration) (float64, time.Duration) {
	if pat != Bursty {
		return mean, end
	}
	in := t % BurstPeriod
	if in < BurstOn {
		return mean * BurstFactor, min(end, t-in+BurstOn)
	}
	return 0, min(end, t-in+BurstPeriod)
}

func (s *Server) productionCall() {
	ok := s.takeQuota(UserUpdate)
	s.recordCall(UserUpdate, !ok)
	if ok {
		s.prodServed.Add(1)
	} else {
		s.prodThrottled.Add(1)
	}
}

// ProductionServed counts production calls that found a UserUpdate token.
func (s *Server) ProductionServed() int { return int(s.prodServed.Load()) }

// ProductionThrottled counts production calls that found the UserUpdate
// bucket empty: the throttling a batch job inflicts on production.
func (s *Server) ProductionThrottled() int { return int(s.prodThrottled.Load()) }

// SetQuota changes a category's bucket; the new bucket starts full.
func (s *Server) SetQuota(c Category, q Quota) {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	s.buckets[c] = newBucket(q, s.Now())
}

func (s *Server) takeQuota(c Category) bool {
	s.quotaMu.Lock()
	defer s.quotaMu.Unlock()
	b, ok := s.buckets[c]
	if !ok {
		return true
	}
	allowed := b.take(s.Now())
	s.buckets[c] = b
	return allowed
}
