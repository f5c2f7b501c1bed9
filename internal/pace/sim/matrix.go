package sim

import (
	"fmt"
	"time"
)

// Schedule is the shape of production's mean rate over a run.
type Schedule int

const (
	Steady   Schedule = iota // 10/s throughout
	StepUp                   // 5/s, then 15/s from half-way
	StepDown                 // 15/s, then 5/s from half-way
	Spike                    // 5/s, 20/s from 30% to 50% of the run, 5/s again
	Ramp                     // 5/s rising to 15/s in ten steps over the run
)

// Schedules lists every schedule, in table order.
var Schedules = []Schedule{Steady, StepUp, StepDown, Spike, Ramp}

func (s Schedule) String() string {
	return [...]string{"steady", "step-up", "step-down", "spike", "ramp"}[s]
}

// Phases returns the schedule for a run of nominal length l at a quota of
// 25/s; the rates scale with quota/25.
func (s Schedule) Phases(l time.Duration, quota float64) []Phase {
	k := quota / 25
	at := func(f float64) time.Duration { return time.Duration(f * float64(l)) }
	var ps []Phase
	switch s {
	case Steady:
		ps = []Phase{{Prod: 10}}
	case StepUp:
		ps = []Phase{{at(0.5), 5}, {0, 15}}
	case StepDown:
		ps = []Phase{{at(0.5), 15}, {0, 5}}
	case Spike:
		ps = []Phase{{at(0.3), 5}, {at(0.5), 20}, {0, 5}}
	case Ramp:
		for i := range 10 {
			ps = append(ps, Phase{at(float64(i+1) / 10), 5 + float64(i)*10/9})
		}
		ps[9].Until = 0
	}
	for i := range ps {
		ps[i].Prod *= k
	}
	return ps
}

// Cell is one scenario of the matrix the rate controller is judged on.
type Cell struct {
	Depth    float64
	Pattern  Pattern
	Schedule Schedule
	Length   time.Duration // the ideal time: rows are sized to it
	Latency  time.Duration
	Quota    float64 // 25 unless set
}

func (c Cell) String() string {
	return fmt.Sprintf("depth %g, %s, %s, %s, %v", c.Depth, c.Pattern, c.Schedule, c.Length, c.Latency)
}

// Scenario returns the cell as a run for seed, the job spread as the
// Limiter spreads it.
func (c Cell) Scenario(seed uint64, spread float64) Scenario {
	q := c.Quota
	if q == 0 {
		q = 25
	}
	sc := Scenario{
		Quota:   q,
		Depth:   c.Depth,
		Pattern: c.Pattern,
		Phases:  c.Schedule.Phases(c.Length, q),
		Latency: c.Latency,
		Jitter:  c.Latency / 5,
		Spread:  spread,
		Seed:    seed,
	}
	// Rows such that a job taking the free share finishes at Length.
	rows := 0.0
	var t time.Duration
	for _, p := range sc.Phases {
		end := p.Until
		if end == 0 || end > c.Length {
			end = c.Length
		}
		rows += (q - p.Prod) * (end - t).Seconds()
		t = end
		if t >= c.Length {
			break
		}
	}
	sc.Rows = int(rows)
	return sc
}

// Matrix is every combination the issue asks for: bucket depth {1, 5, 25,
// 50} x production {even, Poisson, bursty} x every schedule x run length
// {40 s, 10 min} x latency {30 ms, 150 ms}.
func Matrix() []Cell {
	var cells []Cell
	for _, d := range []float64{1, 5, 25, 50} {
		for _, p := range []Pattern{Even, Poisson, Bursty} {
			for _, s := range Schedules {
				for _, l := range []time.Duration{40 * time.Second, 10 * time.Minute} {
					for _, lat := range []time.Duration{30 * time.Millisecond, 150 * time.Millisecond} {
						cells = append(cells, Cell{Depth: d, Pattern: p, Schedule: s, Length: l, Latency: lat})
					}
				}
			}
		}
	}
	return cells
}
