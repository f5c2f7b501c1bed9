// Package pace sets how fast a run calls Cognito: a rate controller that
// reacts to throttling (a pure function of its state, an event and the time),
// a Limiter that applies it to a token bucket, and a resizable Gate with a
// sizing rule for the number of calls in flight.
//
// The request quota is an account-wide token bucket shared with production
// traffic. A throttle means the bucket was empty when a request arrived, so
// production requests were (or soon will be) refused too: the controller
// backs off for everyone's sake, not only to save its own retries.
//
// It imports no cogsweep package; internal/run, account and the simulator
// (pace/sim) import it.
package pace

import (
	"math"
	"time"
)

// EventKind says what happened.
type EventKind int

const (
	// Tick carries no observation; it lets time pass (the rate grows with
	// time since the last cut, not with the number of calls).
	Tick EventKind = iota
	// Success is an answered call that was not throttled.
	Success
	// Throttle is a call refused with TooManyRequestsException.
	Throttle
)

// Event is one observation fed to Next.
type Event struct {
	Kind EventKind
	// Latency of the call (Success only): it tells how long answers to
	// calls sent before a cut keep arriving (see Config.Cooldown).
	Latency time.Duration
}

// State is a controller's memory between events. It is a plain value:
// copying it copies everything, and Next never modifies its argument.
type State struct {
	// Rate is the current limit in calls per second.
	Rate float64
	// WMax is the estimated rate at which throttling last began (auto
	// mode; Config.Rate before the first throttle). The plateau is
	// Settle x WMax.
	WMax float64
	// Cuts counts throttle signals acted on.
	Cuts int
	// Cap is the outer loop's ceiling on Rate (0: none; outer.go).
	Cap float64

	latency float64   // EWMA of answered calls' latency, seconds
	epoch   time.Time // start of the current recovery curve
	from    float64   // rate at epoch
	lastCut time.Time
	cut     bool    // lastCut is set
	served  int     // calls answered without throttling since epoch
	level0  float64 // calls the server's bucket is taken to hold at epoch
	high    float64 // the share sustained before it last shrank (0: none)
	learned bool    // WMax was measured at a probe's onset, not assumed
	win     window

	// Damp scales the plateau down (1: not at all) while the share of
	// time the job's calls found the bucket empty over the last Memory is
	// above Target.
	Damp     float64
	ewAt     time.Time
	ewCalls  float64 // calls answered, decayed with Memory
	ewGap    float64 // the gaps (1/rate) they stood for
	ewThrGap float64 // of which throttled
}

// Controller turns events into rates. It holds only configuration, reads no
// clock and starts no goroutine: every decision is a function of (State,
// Event, now), which makes it testable and simulable without waiting.
type Controller struct {
	cfg Config
}

// Start returns the state at the beginning of a run.
func (c Controller) Start(now time.Time) State {
	s := State{epoch: now, Damp: 1, ewAt: now}
	if !c.cfg.Auto {
		s.Rate, s.WMax, s.from = c.clamp(c.cfg.Rate), c.cfg.Rate, c.clamp(c.cfg.Rate)
		return s
	}
	// Start as if a cut from the maximum had just happened: the curve
	// climbs quickly from Start x max and levels off below max, so the
	// first probe of an unknown quota is careful near the top.
	s.WMax = c.prior()
	s.from = c.clamp(c.cfg.Start * c.cfg.Rate)
	s.Rate = s.from
	s.level0 = c.cfg.Burst // nobody has called yet: the bucket is full
	return s
}

// Next returns the state after ev at time now. A time before the last cut
// (or Start) is taken as that time, so a clock step back cannot undo one.
func (c Controller) Next(s State, ev Event, now time.Time) State {
	if now.Before(s.epoch) {
		now = s.epoch
	}
	sent := s.Rate // about the rate the answered call was sent at
	switch ev.Kind {
	case Success:
		s.win.add(now, c.cfg.Window, false)
		s.served++
		if ev.Latency > 0 {
			if s.latency == 0 {
				s.latency = ev.Latency.Seconds()
			} else {
				s.latency += 0.1 * (ev.Latency.Seconds() - s.latency)
			}
		}
	case Throttle:
		s.win.add(now, c.cfg.Window, true)
	}
	rate := s.capped(c.curve(s, now), c.cfg.Min)
	if ev.Kind == Throttle && c.signal(s.win.count(now, c.cfg.Window)) &&
		(!s.cut || now.Sub(s.lastCut) >= c.cooldown(s)) {
		s = c.cutAt(s, rate, now)
	} else {
		s.Rate = rate
	}
	// After the cut, which reads the curve since the last one as it was.
	if c.cfg.Auto && ev.Kind != Tick {
		s = c.share(s, ev.Kind == Throttle, sent, now)
	}
	return s
}

// cooldown is how long after a cut throttles are still answers to calls
// sent before it: the configured minimum or three latencies.
func (c Controller) cooldown(s State) time.Duration {
	return max(c.cfg.Cooldown, time.Duration(3*s.latency*float64(time.Second)))
}

// signal reports whether the window's throttled share is a signal rather
// than noise.
func (c Controller) signal(calls, throttles int) bool {
	return throttles > 0 && float64(throttles) >= c.cfg.Threshold*float64(calls)
}

// cutAt reacts to a throttle signal while running at rate.
func (c Controller) cutAt(s State, rate float64, now time.Time) State {
	if c.cfg.Auto {
		if rate <= c.plateau(s)*1.001 {
			// Throttled without probing above the plateau: the free
			// share shrank (more production). Remember a ceiling under
			// this rate so the next plateau is lower still (CUBIC's fast
			// convergence).
			if s.learned {
				s.high = math.Max(s.high, s.WMax)
			}
			// The calls answered since the last cut are what the share
			// sustained before it shrank (a bucket's worth aside), and
			// need no probe's onset: a deep bucket can hide a job above
			// the share for the whole run until production spikes.
			if lb, ok := c.sustained(s, now); ok {
				s.high = math.Max(s.high, math.Min(lb, rate))
			}
			s.WMax = rate * (1 + c.cfg.Beta) / 2
		} else {
			// The onset errs low when the bucket was not full as the
			// probe crossed the share; Beta x rate bounds that error,
			// unless the calls answered since the last cut prove less
			// (a probe that climbed fast overshoots far).
			floor := rate * c.cfg.Beta
			if lb, ok := c.sustained(s, now); ok {
				floor = math.Min(floor, lb)
			}
			s.WMax = math.Max(floor, math.Min(rate, c.onset(s, now)))
			s.high, s.learned = 0, true
		}
		// The sustained estimate is negative when the job was throttled
		// more than served (a bucket far shallower than Burst): a
		// ceiling under the floor would make the curve's cube root NaN.
		s.WMax = math.Max(s.WMax, c.cfg.Min)
	}
	from := rate * c.cfg.Beta
	if c.cfg.Auto {
		from = math.Min(from, c.cfg.Refill*s.WMax*s.damp())
	}
	s.from = c.clamp(from)
	s.Rate = s.from
	s.epoch, s.lastCut, s.cut = now, now, true
	s.served, s.level0 = 0, 0 // a throttle: the bucket is empty
	s.Cuts++
	s.win = window{}
	return s
}
