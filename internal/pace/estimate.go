package pace

import (
	"math"
	"time"
)

// The controller's estimates, all read from the job's own answers: where
// a probe crossed the free share, what the share sustained between
// throttles, how often the job itself is throttled, and the window the
// throttle signal is counted over.

// share updates the decayed throttled share and, from it, Damp: down
// at once while the share is over Target, back up over Memory while it is
// under half of it.
func (c Controller) share(s State, throttled bool, rate float64, now time.Time) State {
	if s.Damp == 0 {
		s.Damp, s.ewAt = 1, now
	}
	dt := now.Sub(s.ewAt).Seconds()
	s.ewAt = now
	k := math.Exp(-dt / c.cfg.Memory.Seconds())
	// Each call samples the bucket for the gap it stands for: counted per
	// call, the throttles of a job slowed by its own cuts (few calls while
	// the bucket is empty) understate the time it is empty, which is what
	// production, arriving at random, meets.
	gap := 1 / math.Max(rate, c.cfg.Min)
	s.ewCalls = s.ewCalls*k + 1
	s.ewGap, s.ewThrGap = s.ewGap*k+gap, s.ewThrGap*k
	if throttled {
		s.ewThrGap += gap
	}
	// A few calls say little: one throttle among the first 10 (the
	// startup climb crossing the share) read as ten times Target and
	// held the plateau a third under the share for most of a 40 s run.
	if s.ewCalls < minShareCalls {
		return s
	}
	p := s.ewThrGap / s.ewGap
	switch {
	case throttled && p > c.cfg.Target:
		s.Damp = math.Max(0.05, s.Damp*(1-0.1*math.Min(1, p/c.cfg.Target-1)))
	case p < c.cfg.Target/2:
		s.Damp = math.Min(1, s.Damp+(1-s.Damp)*(1-k))
	}
	return s
}

// minShareCalls is how many calls (decayed) the throttled share needs
// before it moves Damp. On the matrix, 35 passed two more cells than 10
// (depth 5, even, steady, 40 s; depth 1, bursty, steady, 40 s); 25, 30,
// 40 or 50 lost a cell (depth 5, bursty, step-up) whose production served
// is within 0.0002 of its goal: the number is fitted, not derived.
const minShareCalls = 35

// onset estimates the rate at which the current probe began to exceed the
// free share: the highest share a at which a bucket of Burst, holding
// level0 at the epoch (full at the start, empty after a cut), refilled at
// a and drained by the curve, is empty now. The signal comes only once the
// bucket is empty, so the rate at the signal overstates the free share, by
// much when the probe was climbing fast. Counting only the excess over a
// (as if the bucket were full when the probe crossed it) erred low after a
// cut, when the climb back had not refilled it: 2.3/s for a job answered
// at 9-11/s (TestAuto_OnsetFromAnEmptyBucket). A bucket deeper than Burst
// makes it err high, which the next cut corrects.
func (c Controller) onset(s State, now time.Time) float64 {
	const n = 256
	span := now.Sub(s.epoch)
	if span <= 0 {
		return s.from
	}
	var rates [n]float64
	dt := span.Seconds() / n
	for i := range rates {
		rates[i] = c.curve(s, s.epoch.Add(time.Duration((float64(i)+0.5)*float64(span)/n)))
	}
	left := func(a float64) float64 {
		level := s.level0
		for _, r := range rates {
			level = math.Min(c.cfg.Burst, math.Max(0, level+(a-r)*dt))
		}
		return level
	}
	lo, hi := 0.0, c.cfg.Rate
	for range 40 {
		mid := (lo + hi) / 2
		if left(mid) <= 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// sustained estimates the free share from the calls answered since the
// epoch: the bucket was empty then (full at the start) and is empty again
// at a throttle, so the share refilled what the job took, less what the
// bucket held. It errs high if the share shrank meanwhile, which is why
// cutAt only ever lowers a bound with it. A short span says little.
func (c Controller) sustained(s State, now time.Time) (float64, bool) {
	span := now.Sub(s.epoch).Seconds()
	if span < 2 {
		return 0, false
	}
	return (float64(s.served) - s.level0) / span, true
}

// window counts answered and throttled calls over the last Window in slots,
// so that State stays a fixed-size value.
type window struct {
	slot  [slots]int64 // slot index (time / slot width) each counter belongs to
	calls [slots]int
	thr   [slots]int
}

const slots = 16

func slotOf(now time.Time, span time.Duration) int64 {
	width := int64(span) / slots
	if width <= 0 {
		width = 1
	}
	return now.UnixNano() / width
}

func (w *window) add(now time.Time, span time.Duration, throttled bool) {
	idx := slotOf(now, span)
	i := int(((idx % slots) + slots) % slots)
	if w.slot[i] != idx {
		w.slot[i], w.calls[i], w.thr[i] = idx, 0, 0
	}
	w.calls[i]++
	if throttled {
		w.thr[i]++
	}
}

// count returns the calls and throttles recorded within the last span.
func (w *window) count(now time.Time, span time.Duration) (calls, throttles int) {
	idx := slotOf(now, span)
	for i := range slots {
		if w.slot[i] > idx-slots && w.slot[i] <= idx {
			calls += w.calls[i]
			throttles += w.thr[i]
		}
	}
	return calls, throttles
}
