package fakecognito

import (
	"sort"
	"sync"
	"time"
)

// UserCreation is the category of AdminCreateUser and SignUp. Its bucket
// is unlimited unless Options.UserCreation sets one, so seeding is not
// paced; it exists for Service Quotas, the usage metrics and restore.
const UserCreation Category = "UserCreation"

// usageMinute is what CloudWatch's AWS/Usage namespace publishes for one
// category in one minute: CallCount counts every call (throttled and
// failed included), ThrottleCount the throttled ones.
type usageMinute struct {
	calls, throttles float64
}

// usage counts a category's calls per minute of the fake's clock, from the
// job's calls over HTTP and production's alike, as Cognito's account-level
// metrics do. A minute is a few bytes: even a day of a bench run stays
// small.
type usage struct {
	mu   sync.Mutex
	byCM map[Category]map[int64]usageMinute // unix minute
}

func newUsage() *usage { return &usage{byCM: map[Category]map[int64]usageMinute{}} }

func (u *usage) add(c Category, at time.Time, calls, throttles float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.byCM[c]
	if m == nil {
		m = map[int64]usageMinute{}
		u.byCM[c] = m
	}
	k := at.Unix() / 60
	v := m[k]
	v.calls += calls
	v.throttles += throttles
	m[k] = v
}

// minutes returns c's minutes in [from, to), oldest first.
func (u *usage) minutes(c Category, from, to time.Time) []minutePoint {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []minutePoint
	lo, hi := from.Unix(), to.Unix()
	for k, v := range u.byCM[c] {
		if t := k * 60; t >= lo && t < hi {
			out = append(out, minutePoint{at: t, usageMinute: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at < out[j].at })
	return out
}

type minutePoint struct {
	at int64 // unix seconds, a whole minute
	usageMinute
}

// recordCall counts one call of c at the fake's now, throttled or not.
func (s *Server) recordCall(c Category, throttled bool) {
	if c == "" {
		return
	}
	t := 0.0
	if throttled {
		t = 1
	}
	s.usage.add(c, s.Now(), 1, t)
}

// SeedUsage writes history into the usage metrics: callsPerSec calls (of
// which throttledPerSec throttled) of category c in every minute of the
// last d before the fake's now, as if production had run that long. The
// current, unfinished minute is left alone: CloudWatch has not published
// it yet. "Production ran at 20/s for the last 20 minutes" is
// SeedUsage(UserUpdate, 20*time.Minute, 20, 0).
func (s *Server) SeedUsage(c Category, d time.Duration, callsPerSec, throttledPerSec float64) {
	end := s.Now().Truncate(time.Minute)
	for t := end.Add(-d.Truncate(time.Minute)); t.Before(end); t = t.Add(time.Minute) {
		s.usage.add(c, t, callsPerSec*60, throttledPerSec*60)
	}
}

// RecordProduction counts served and throttled production calls of c at
// the fake's now, as StartProduction's calls are counted: in the usage
// metrics (CloudWatch's CallCount and ThrottleCount) and, for UserUpdate,
// in ProductionServed and ProductionThrottled. It makes production's
// throttles visible at a moment a test chooses, without racing a bucket.
func (s *Server) RecordProduction(c Category, served, throttled int) {
	s.usage.add(c, s.Now(), float64(served+throttled), float64(throttled))
	if c == UserUpdate {
		s.prodServed.Add(int64(served))
		s.prodThrottled.Add(int64(throttled))
	}
}
