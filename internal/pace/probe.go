package pace

import (
	"math"
	"time"
)

// The rate over time between two cuts: the climb back to the plateau and
// the probe past it.

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
