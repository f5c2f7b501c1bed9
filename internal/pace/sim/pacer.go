package sim

import (
	"time"

	"github.com/cogsweep/cogsweep/internal/pace"
)

// epoch is the fake clock's zero: any fixed instant will do.
var epoch = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// Controller paces the job with a pace.Controller, as pace.Limiter does:
// every grant reads the rate (a Tick), every answer is an event.
type Controller struct {
	c  pace.Controller
	st pace.State
}

var _ Pacer = (*Controller)(nil)

// NewController starts c at the simulation's zero.
func NewController(c pace.Controller) *Controller {
	return &Controller{c: c, st: c.Start(epoch)}
}

// Rate implements Pacer.
func (p *Controller) Rate(now time.Duration) float64 {
	p.st = p.c.Next(p.st, pace.Event{Kind: pace.Tick}, epoch.Add(now))
	return p.st.Rate
}

// Answer implements Pacer.
func (p *Controller) Answer(k Kind, latency, now time.Duration) {
	ev := pace.Event{Kind: pace.Success, Latency: latency}
	if k == Throttle {
		ev = pace.Event{Kind: pace.Throttle}
	}
	p.st = p.c.Next(p.st, ev, epoch.Add(now))
}

// State is the controller's state now.
func (p *Controller) State() pace.State { return p.st }

// Fixed holds one rate per phase of a schedule, ignoring answers: the
// hindsight oracle's pacer.
type Fixed struct {
	Phases []Phase
	Rates  []float64
}

var _ Pacer = Fixed{}

// Rate implements Pacer.
func (f Fixed) Rate(now time.Duration) float64 {
	return f.Rates[Scenario{Phases: f.Phases}.phaseAt(now)]
}

// Answer implements Pacer.
func (Fixed) Answer(Kind, time.Duration, time.Duration) {}
