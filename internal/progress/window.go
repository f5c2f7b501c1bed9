package progress

import "time"

// Window turns a cumulative count, sampled at each frame, into a rate over
// the last span (over the run so far while it is younger): what the run
// does now, which a lifetime average hides (it lags a change of pace by
// as long as the run has lasted).
type Window struct {
	Span    time.Duration // how far back the rate looks
	samples []sample      // oldest first; the first is at or before the window's start
}

type sample struct {
	at time.Duration // run time of the frame
	n  int           // the count so far
}

// Rate records the count n at run time at and returns the count's rate per
// second over the window.
func (w *Window) Rate(at time.Duration, n int) float64 {
	if len(w.samples) == 0 {
		w.samples = append(w.samples, sample{}) // the start: nothing yet
	}
	if last := w.samples[len(w.samples)-1]; at < last.at {
		at = last.at // a frame out of order must not run the window backwards
	}
	w.samples = append(w.samples, sample{at: at, n: n})
	for len(w.samples) > 2 && w.samples[1].at <= at-w.Span {
		w.samples = w.samples[1:]
	}
	first := w.samples[0]
	d := at - first.at
	if d <= 0 {
		return 0
	}
	return float64(n-first.n) / d.Seconds()
}
