package pace

import (
	"math"
	"time"
)

// headroom covers latency spread: with calls in flight sized to exactly
// rate x mean latency, every slow answer would leave the limiter's token
// unused.
const headroom = 1.5

// Concurrency returns how many calls should be in flight to sustain rate
// calls per second at the given latency (Little's law, with headroom and
// one spare), clamped to [min, max]. Too few workers cap the rate below the
// limiter; too many only hold connections and memory, since the limiter,
// not the workers, sets the pace.
func Concurrency(rate float64, latency time.Duration, min, max int) int {
	if max < min {
		max = min
	}
	n := math.Ceil(rate*latency.Seconds()*headroom) + 1
	switch {
	case math.IsNaN(n) || n < float64(min):
		return min
	case n > float64(max):
		return max
	}
	return int(n)
}

// EWMA is an exponentially weighted moving average of durations. The zero
// value has weight 0 and never moves: use NewEWMA. Not safe for concurrent
// use (the Limiter guards its own).
type EWMA struct {
	alpha float64
	value float64
	seen  bool
}

// NewEWMA returns an average giving weight alpha (0 < alpha <= 1) to each
// new sample.
func NewEWMA(alpha float64) EWMA {
	if alpha <= 0 || alpha > 1 {
		alpha = 0.1
	}
	return EWMA{alpha: alpha}
}

// Observe adds a sample; the first sample sets the average. Non-positive
// samples are ignored.
func (e *EWMA) Observe(d time.Duration) {
	if d <= 0 {
		return
	}
	if !e.seen {
		e.value, e.seen = float64(d), true
		return
	}
	e.value += e.alpha * (float64(d) - e.value)
}

// Value returns the average, or 0 before any sample.
func (e *EWMA) Value() time.Duration { return time.Duration(e.value) }
