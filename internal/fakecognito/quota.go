package fakecognito

import (
	"context"
	"math"
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

// Step is one change of the competing production traffic's rate: from After
// (measured from StartProduction) on, calls arrive Rate times per second,
// evenly spaced. A zero Rate pauses the traffic until the next step.
type Step struct {
	After time.Duration
	Rate  float64
}

// StartProduction simulates the account's own production traffic competing
// for the UserUpdate quota: calls arrive at the schedule's rate and each takes
// a UserUpdate token, without HTTP. A call that finds the bucket empty fails
// (ProductionThrottled); the others succeed (ProductionServed). The last step
// lasts until ctx ends. The returned channel closes when the traffic stops.
func (s *Server) StartProduction(ctx context.Context, schedule []Step) <-chan struct{} {
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		s.runProduction(ctx, schedule, func(ctx context.Context, off time.Duration) bool {
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
func (s *Server) runProduction(ctx context.Context, schedule []Step, waitUntil func(context.Context, time.Duration) bool) {
	steps := append([]Step(nil), schedule...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].After < steps[j].After })
	for i, st := range steps {
		end := forever
		if i+1 < len(steps) {
			end = steps[i+1].After
		}
		if st.Rate <= 0 {
			if !waitUntil(ctx, end) {
				return
			}
			continue
		}
		interval := max(time.Duration(float64(time.Second)/st.Rate), 1)
		for k := int64(1); ; k++ {
			at := st.After + time.Duration(k)*interval
			if at >= end {
				break
			}
			if !waitUntil(ctx, at) {
				return
			}
			s.productionCall()
		}
		if !waitUntil(ctx, end) {
			return
		}
	}
	waitUntil(ctx, forever)
}

func (s *Server) productionCall() {
	if s.takeQuota(UserUpdate) {
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
