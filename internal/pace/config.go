package pace

import (
	"math"
	"time"
)

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
	// Target is, in auto mode, the share of time over the last Memory it
	// lets its calls find the bucket empty (each throttle weighed by the
	// gap its call stood for). Where production arrives at random or in
	// bursts, its calls are refused about that often, or more, so a job
	// that keeps the share under Target keeps production's losses small
	// too. Above it, the plateau is lowered (Damp) and the probe slowed,
	// until the share is back under Target.
	Target float64
	// Memory is the time constant of the throttled share (auto mode).
	Memory time.Duration
	// Prior is, in auto mode, where throttling is expected to begin, as a
	// fraction of Rate (0: at Rate), e.g. the free share the account's
	// metrics show: the first climb levels off under it (outer.go).
	Prior float64
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
// the plateau while the job's calls find the bucket empty more than 1.35%
// of the time (1.2% of its calls before the share was weighed by time: a
// share of time reads higher, the calls thinning out while the bucket is
// empty; 1.35 was the best of 1.2, 1.35 and 1.5 on the matrix). After the
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
		Target:    0.0135,
		Memory:    30 * time.Second,
	}
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
