package run

import "time"

// throttleWindow turns the run's cumulative throttle count, as successive
// progress snapshots carry it, into throttles per minute over the last
// minute (over the run so far while it is younger): whether the quota is
// pushing back now, which the run's total cannot say.
type throttleWindow struct {
	samples []throttleSample // oldest first; the first is at or before the window's start
}

type throttleSample struct {
	at time.Duration // run time of the snapshot
	n  int           // throttles so far
}

// perMinute records a snapshot and returns the throttles per minute over
// the last minute.
func (w *throttleWindow) perMinute(elapsed time.Duration, throttles int) float64 {
	if len(w.samples) == 0 {
		w.samples = append(w.samples, throttleSample{}) // the start: nothing yet
	}
	w.samples = append(w.samples, throttleSample{at: elapsed, n: throttles})
	for len(w.samples) > 2 && w.samples[1].at <= elapsed-time.Minute {
		w.samples = w.samples[1:]
	}
	first := w.samples[0]
	span := elapsed - first.at
	if span <= 0 {
		return 0
	}
	return float64(throttles-first.n) / span.Minutes()
}

// perMinuteOver is a whole run's throttles per minute.
func perMinuteOver(throttles int64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(throttles) / elapsed.Minutes()
}
