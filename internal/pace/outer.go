package pace

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// The outer loop: a slow correction of the controller from the account's
// usage metrics (CloudWatch AWS/Usage), read every few minutes during a
// long run. The controller's only signal is a throttle of the job's own;
// production can be failing while the job is hardly throttled (a job that
// wins the race for each token). ThrottleCount minus the job's own
// throttles is production's loss, the harm itself: while there is some,
// the outer loop holds the job under a ceiling below the rate it ran at,
// and lifts the ceiling step by step once production is served again.
//
// It is a pure function of (OuterState, the minutes read, the job's rate,
// now), like the controller; the poller that reads the metrics lives in
// internal/account.

// OuterConfig tunes the outer loop. The zero value of a field takes its
// default (DefaultOuter).
type OuterConfig struct {
	// Tolerance is the share of production's calls throttled over the
	// judged minutes that counts as harm: issue 15's goal serves 98% of
	// them, and a job should keep well inside it.
	Tolerance float64
	// MinThrottled is the fewest production throttles over the judged
	// minutes that count as harm: a few are a production burst of its
	// own, or the job's calls counted in a neighbouring minute.
	MinThrottled float64
	// Cut sets the ceiling, on harm, to this fraction of the job's rate
	// when the reading came (or of the ceiling, if lower).
	Cut float64
	// Raise multiplies the ceiling after a reading without harm; once it
	// reaches the controller's own top it is lifted.
	Raise float64
	// Min is the lowest ceiling.
	Min float64
}

// DefaultOuter is the outer loop's tuning.
func DefaultOuter() OuterConfig {
	return OuterConfig{Tolerance: 0.01, MinThrottled: 5, Cut: 0.8, Raise: 1.25, Min: 1}
}

func (c OuterConfig) withDefaults() OuterConfig {
	d := DefaultOuter()
	if c.Tolerance <= 0 {
		c.Tolerance = d.Tolerance
	}
	if c.MinThrottled <= 0 {
		c.MinThrottled = d.MinThrottled
	}
	if c.Cut <= 0 || c.Cut >= 1 {
		c.Cut = d.Cut
	}
	if c.Raise <= 1 {
		c.Raise = d.Raise
	}
	if c.Min <= 0 {
		c.Min = d.Min
	}
	return c
}

// Minute is one published minute of the category's usage: the account's
// counts (every caller) and the job's own count of the same minute.
type Minute struct {
	Start                  time.Time
	Calls, Throttles       float64 // CallCount, ThrottleCount
	OwnCalls, OwnThrottles float64 // the job's own calls and throttles
}

// OuterState is the outer loop's memory between readings.
type OuterState struct {
	// Ceiling is the highest rate the job may run at (0: none).
	Ceiling float64
	// Since is the start of the oldest minute still to be judged: minutes
	// before it were judged already, or ran under an older ceiling.
	Since time.Time
	// Cuts and Raises count the changes.
	Cuts, Raises int
}

// StartOuter is the state at the start of a run: the minute the run began
// in is the first judged (the job ran in it); earlier ones were the
// pre-flight's history.
func StartOuter(now time.Time) OuterState {
	return OuterState{Since: now.Truncate(time.Minute)}
}

// Verdict is what a reading showed.
type Verdict struct {
	// Minutes is how many published minutes were judged (0: none new).
	Minutes int
	// Production's calls and throttles over them, the job's own removed.
	ProdCalls, ProdThrottled float64
	// Harm: production lost more than the tolerance.
	Harm bool
	// Change is "cut", "raise", "lift" or "" (the ceiling stayed).
	Change string
}

// Next judges the minutes not judged yet and returns the new state. rate
// is the job's rate now, top the highest rate the controller may reach
// (a ceiling at or above it is lifted).
func (c OuterConfig) Next(s OuterState, mins []Minute, rate, top float64, now time.Time) (OuterState, Verdict) {
	c = c.withDefaults()
	var v Verdict
	next := s.Since
	for _, m := range mins {
		if m.Start.Before(s.Since) {
			continue
		}
		v.Minutes++
		v.ProdCalls += math.Max(0, m.Calls-m.OwnCalls)
		v.ProdThrottled += math.Max(0, m.Throttles-m.OwnThrottles)
		if end := m.Start.Add(time.Minute); end.After(next) {
			next = end
		}
	}
	if v.Minutes == 0 {
		return s, v
	}
	s.Since = next
	v.Harm = v.ProdThrottled >= c.MinThrottled && v.ProdThrottled > c.Tolerance*v.ProdCalls
	switch {
	case v.Harm:
		base := rate
		if s.Ceiling > 0 {
			base = math.Min(base, s.Ceiling)
		}
		s.Ceiling = math.Max(c.Min, c.Cut*base)
		s.Cuts++
		v.Change = "cut"
	case s.Ceiling > 0:
		s.Ceiling *= c.Raise
		s.Raises++
		v.Change = "raise"
		if s.Ceiling >= top {
			s.Ceiling = 0
			v.Change = "lift"
		}
	default:
		return s, v
	}
	// The minutes up to now ran at the old ceiling: what they show says
	// nothing of the new one.
	if now.After(s.Since) {
		s.Since = now
	}
	return s, v
}

// prior is the first WMax: Config.Prior of Rate when set, else Rate.
func (c Controller) prior() float64 {
	if p := c.cfg.Prior; p > 0 && p < 1 {
		return p * c.cfg.Rate
	}
	return c.cfg.Rate
}

// capped is r under the outer loop's ceiling (never under floor).
func (s State) capped(r, floor float64) float64 {
	if s.Cap <= 0 || r <= s.Cap {
		return r
	}
	return math.Max(s.Cap, floor)
}

// SetCeiling holds the limiter's rate at or under c from now on (0: no
// ceiling). The controller keeps reacting to throttles under it: a cut
// starts from the capped rate.
func (l *Limiter) SetCeiling(c float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.startLocked()
	l.st.Cap = math.Max(c, 0)
	now := l.Now()
	l.st = l.ctrl.Next(l.st, Event{Kind: Tick}, now)
	l.lim.SetLimitAt(now, rate.Limit(l.st.Rate))
}

// Ceiling returns the outer loop's ceiling (0: none).
func (l *Limiter) Ceiling() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st.Cap
}

// Top is the highest rate the limiter's controller may reach.
func (l *Limiter) Top() float64 {
	cfg := l.ctrl.Config()
	if cfg.Auto {
		return cfg.Rate * cfg.Ceiling
	}
	return cfg.Rate
}
