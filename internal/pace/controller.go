// Package pace sets how fast a run calls Cognito: a rate controller that
// reacts to throttling (a pure function of its state, an event and the time),
// a Limiter that applies it to a token bucket, and a resizable Gate with a
// sizing rule for the number of calls in flight.
//
// The request quota is an account-wide token bucket shared with production
// traffic. A throttle means the bucket was empty when a request arrived, so
// production requests were (or soon will be) refused too: the controller
// backs off for everyone's sake, not only to save its own retries.
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

// Config tunes a Controller. Use FixedConfig or AutoConfig and adjust.
type Config struct {
	// Auto selects the probing mode; otherwise the rate is held at Rate.
	Auto bool
	// Rate is the fixed rate, or in auto mode the maximum (--max-rate).
	// It must be positive.
	Rate float64
	// Min is the floor: the rate never goes below it.
	Min float64
	// Ceiling is, in auto mode, the highest rate as a fraction of Rate.
	// Rate is the whole quota: a job running at it leaves nothing for
	// production, and (paced as evenly as the refill) takes every token
	// without being throttled itself, so it would never notice.
	Ceiling float64
	// Start is the auto mode's first rate as a fraction of Rate.
	Start float64
	// Beta is the multiplicative cut on a throttle signal.
	Beta float64
	// Settle is where auto mode levels off, as a fraction of the rate at
	// which throttling last began: running at the very edge keeps the
	// server's bucket empty and starves production.
	Settle float64
	// Recover is how long the rate takes to climb back after a standard cut:
	// to Rate in fixed mode (linearly), to the plateau in auto mode (along
	// a cubic curve that flattens near the plateau).
	Recover time.Duration
	// Probe is, in auto mode, how long after reaching the plateau without
	// throttles the rate is 10% above it; the probe then speeds up (cubic),
	// so a free share that grew is found quickly.
	Probe time.Duration
	// Refill caps, in auto mode, the rate right after a cut at this
	// fraction of the new WMax. A probe that climbed fast is far above the
	// free share by the time the bucket runs dry, and Beta times that rate
	// can still be above it: the bucket would then stay empty, and a job
	// paced evenly a little above the free share wins nearly every token
	// while production calls fail in its place, its own throttles few.
	Refill float64
	// Window and Threshold define a throttle signal: the throttled share of
	// the calls answered within the last Window reaches Threshold (and at
	// least one call was throttled). A single throttle among many calls is
	// noise (a production burst); among few it is not.
	Window    time.Duration
	Threshold float64
	// Burst is the assumed depth of the server's bucket, in calls (auto
	// mode; default 5, or Rate if lower). It is used to tell where
	// throttling began: the bucket hides an overshoot until the excess
	// over the free share has drained it. Assumed shallow, a deep bucket
	// makes the estimate err high, which the next cut corrects; assumed
	// deep, a shallow one makes every cut too deep for good.
	Burst float64
	// Cooldown is the least time between two cuts: throttles of requests
	// already sent before a cut say nothing about the new rate. The
	// controller also waits three average latencies, since that is how
	// long such answers keep coming.
	Cooldown time.Duration
	// Target is, in auto mode, the share of the job's calls it lets be
	// throttled over the last Memory. Where production arrives at random
	// or in bursts, its calls are refused about as often as the job's, or
	// more, so a job that keeps its own share under Target keeps
	// production's losses small too. Above it, the plateau is lowered
	// (Damp) and the probe slowed, until the share is back under Target.
	Target float64
	// Memory is the time constant of the throttled share (auto mode).
	Memory time.Duration
}

// FixedConfig holds rate and, on throttling, cuts to 70% and recovers
// linearly over 5s: one shared limiter slows every worker at once and
// returns to the asked rate when production calms down.
func FixedConfig(rate float64) Config {
	return Config{
		Rate:      rate,
		Min:       math.Min(1, rate),
		Beta:      0.7,
		Recover:   5 * time.Second,
		Window:    2 * time.Second,
		Threshold: 0.02,
		Cooldown:  time.Second,
	}
}

// AutoConfig probes for the rate the shared quota leaves free, never above
// max and never below 1/s. The numbers were chosen on the scenario matrix
// of matrix_test.go (bucket depth 5 to 50, production even, at random or
// in bursts, five schedules, two run lengths and latencies; the figures
// are in docs/rate-matrix.md), from the design first tuned on one scenario
// in controller_sim_test.go. Against that first tuning: Burst 5 instead of
// one second of quota (Cognito does not publish its bucket's depth, and
// assuming a deep one made every cut too deep on a shallow bucket: 1.2x
// the ideal time at depth 5); Probe 6 s instead of 3 (fewer probes, fewer
// throttles of production arriving at random); and Target, which lowers
// the plateau while the job's throttled share stays over 1.2%. After the
// share shrinks, the rate climbs back to the level it sustained before
// (see curve).
func AutoConfig(max float64) Config {
	return Config{
		Auto:      true,
		Rate:      max,
		Min:       math.Min(1, max),
		Ceiling:   0.9,
		Start:     0.5,
		Beta:      0.6,
		Settle:    0.95,
		Recover:   5 * time.Second,
		Probe:     6 * time.Second,
		Refill:    0.75,
		Window:    2 * time.Second,
		Threshold: 0.02,
		Cooldown:  100 * time.Millisecond,
		Burst:     5,
		Target:    0.012,
		Memory:    30 * time.Second,
	}
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

	// Damp scales the plateau down (1: not at all) while the job's
	// throttled share over the last Memory is above Target.
	Damp    float64
	ewAt    time.Time
	ewCalls float64 // calls answered, decayed with Memory
	ewThr   float64 // of which throttled
}

// Controller turns events into rates. It holds only configuration, reads no
// clock and starts no goroutine: every decision is a function of (State,
// Event, now), which makes it testable and simulable without waiting.
type Controller struct {
	cfg Config
}

// New returns a Controller for cfg, filling zero fields with the defaults
// of the chosen mode.
func New(cfg Config) Controller {
	def := FixedConfig(cfg.Rate)
	if cfg.Auto {
		def = AutoConfig(cfg.Rate)
	}
	if cfg.Min <= 0 {
		cfg.Min = def.Min
	}
	if cfg.Ceiling <= 0 || cfg.Ceiling > 1 {
		cfg.Ceiling = def.Ceiling
	}
	if cfg.Start <= 0 || cfg.Start > 1 {
		cfg.Start = def.Start
	}
	if cfg.Beta <= 0 || cfg.Beta >= 1 {
		cfg.Beta = def.Beta
	}
	if cfg.Settle <= 0 || cfg.Settle > 1 {
		cfg.Settle = def.Settle
	}
	if cfg.Recover <= 0 {
		cfg.Recover = def.Recover
	}
	if cfg.Probe <= 0 {
		cfg.Probe = def.Probe
	}
	if cfg.Refill <= 0 || cfg.Refill > 1 {
		cfg.Refill = def.Refill
	}
	if cfg.Window <= 0 {
		cfg.Window = def.Window
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = def.Threshold
	}
	if cfg.Burst <= 0 {
		cfg.Burst = math.Min(def.Burst, cfg.Rate)
	}
	if cfg.Burst <= 0 {
		cfg.Burst = cfg.Rate
	}
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = def.Cooldown
	}
	if cfg.Target <= 0 || cfg.Target >= 1 {
		cfg.Target = def.Target
	}
	if cfg.Memory <= 0 {
		cfg.Memory = def.Memory
	}
	return Controller{cfg: cfg}
}

// Config returns the configuration in use, defaults filled in.
func (c Controller) Config() Config { return c.cfg }

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
	s.WMax = c.cfg.Rate
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
	rate := c.curve(s, now)
	if ev.Kind == Throttle && c.signal(s.win.count(now, c.cfg.Window)) &&
		(!s.cut || now.Sub(s.lastCut) >= c.cooldown(s)) {
		s = c.cutAt(s, rate, now)
	} else {
		s.Rate = rate
	}
	// After the cut, which reads the curve since the last one as it was.
	if c.cfg.Auto && ev.Kind != Tick {
		s = c.share(s, ev.Kind == Throttle, now)
	}
	return s
}

// share updates the decayed throttled share and, from it, Damp: down
// at once while the share is over Target, back up over Memory while it is
// under half of it.
func (c Controller) share(s State, throttled bool, now time.Time) State {
	if s.Damp == 0 {
		s.Damp, s.ewAt = 1, now
	}
	dt := now.Sub(s.ewAt).Seconds()
	s.ewAt = now
	k := math.Exp(-dt / c.cfg.Memory.Seconds())
	s.ewCalls, s.ewThr = s.ewCalls*k+1, s.ewThr*k
	if throttled {
		s.ewThr++
	}
	// A few calls say little: one throttle among the first 10 (the
	// startup climb crossing the share) read as ten times Target and
	// held the plateau a third under the share for most of a 40 s run.
	if s.ewCalls < minShareCalls {
		return s
	}
	p := s.ewThr / s.ewCalls
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

// onset estimates the rate at which the current probe began to exceed the
// free share: the level a such that the probe's excess over a since the
// last cut adds up to one bucket. The signal comes only once the bucket is
// empty, so the rate at the signal overstates the free share, by much when
// the probe was climbing fast. If the bucket was not full when the probe
// crossed a, the estimate errs low, which costs a little speed, not
// throttles.
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
	excess := func(a float64) float64 {
		sum := 0.0
		for _, r := range rates {
			sum += math.Max(0, r-a) * dt
		}
		return sum
	}
	lo, hi := 0.0, c.cfg.Rate
	for range 40 {
		mid := (lo + hi) / 2
		if excess(mid) > c.cfg.Burst {
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

// plateau is where the current curve levels off.
func (c Controller) plateau(s State) float64 {
	return math.Max(c.cfg.Settle*s.WMax*s.damp(), s.from)
}

func (s State) damp() float64 {
	if s.Damp <= 0 {
		return 1
	}
	return s.Damp
}

// curve is the rate at now on the recovery curve that began at s.epoch.
func (c Controller) curve(s State, now time.Time) float64 {
	t := now.Sub(s.epoch).Seconds()
	rec := c.cfg.Recover.Seconds()
	if !c.cfg.Auto {
		if t >= rec {
			return c.clamp(c.cfg.Rate)
		}
		return c.clamp(s.from + (c.cfg.Rate-s.from)*t/rec)
	}
	// A cubic with its flat point at (k, plateau): concave on the way up
	// from the cut, convex past the plateau. The way up is scaled so that
	// climbing back from a standard cut takes Recover; the probe past the
	// plateau is scaled so that it is 10% higher after Probe.
	plateau, from := c.plateau(s), s.from
	up := math.Max(c.cfg.Settle-c.cfg.Beta, 0.05) * s.WMax / (rec * rec * rec)
	k := math.Cbrt((plateau - from) / up)
	d := t - k
	if d < 0 {
		return c.clamp(plateau + up*d*d*d)
	}
	probe := c.cfg.Probe.Seconds() / s.damp()
	// A plateau that a shrinking share pushed down is held for most of a
	// probe period, then the rate climbs back in Recover to where it
	// levelled off before (Settle x high), and probes on from there: a
	// spike of production ends, and the share it took is free again. If
	// it is not, that costs one overshoot, and the probe's cut forgets
	// the old level. The old level is not damped: Damp counts the
	// throttles of the shrink itself, which say nothing about after it.
	if top := c.cfg.Settle * s.high; top > plateau {
		hold := probe * 3 / 4
		if d < hold {
			return c.clamp(plateau)
		}
		if f := (d - hold) / rec; f < 1 {
			return c.clamp(plateau + (top-plateau)*f)
		}
		d -= hold + rec
		plateau = top
	}
	return c.clamp(plateau + plateau*0.1*d*d*d/(probe*probe*probe))
}

func (c Controller) clamp(r float64) float64 {
	top := c.cfg.Rate
	if c.cfg.Auto {
		top *= c.cfg.Ceiling
	}
	if math.IsNaN(r) {
		// A rate that is not a number would turn pacing off.
		return c.cfg.Min
	}
	return math.Max(c.cfg.Min, math.Min(top, r))
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
