package account

import (
	"sync"
	"time"
)

// Own counts the job's own calls and throttles of a category per minute,
// on the same clock as CloudWatch's periods, so that the account's
// ThrottleCount less the job's throttles is production's. It keeps
// ownKeep of minutes: memory stays bounded however long the run.
type Own struct {
	now func() time.Time

	mu  sync.Mutex
	min map[int64]ownMinute // unix minute
}

type ownMinute struct{ calls, throttles float64 }

// ownKeep is how far back the job's counts are kept: further than any
// reading looks (see Watch).
const ownKeep = 2 * maxLookBack

// NewOwn returns a counter on clock now (nil: time.Now).
func NewOwn(now func() time.Time) *Own {
	if now == nil {
		now = time.Now
	}
	return &Own{now: now, min: map[int64]ownMinute{}}
}

// Call counts one answered call of the job's, throttled or not.
func (o *Own) Call(throttled bool) {
	k := o.now().Unix() / 60
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.min[k]
	m.calls++
	if throttled {
		m.throttles++
	}
	o.min[k] = m
	if len(o.min) > int(ownKeep/time.Minute)+1 {
		for old := range o.min {
			if old <= k-int64(ownKeep/time.Minute) {
				delete(o.min, old)
			}
		}
	}
}

// Minute returns the job's calls and throttles in the minute starting at
// start.
func (o *Own) Minute(start time.Time) (calls, throttles float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.min[start.Unix()/60]
	return m.calls, m.throttles
}
