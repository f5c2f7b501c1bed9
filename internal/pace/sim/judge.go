package sim

import (
	"fmt"
	"math"
	"time"
)

// Goals per cell: finish within 10% of the ideal time (5% on average over
// the matrix), production served at least 98%, at most 2% of the job's
// calls throttled. Where the oracle itself cannot finish within 10% of the
// ideal while keeping production served, the cell's goal is the oracle's
// time plus 5%, at the oracle's production served.
const (
	MaxTimeRatio     = 1.10
	MaxMeanTimeRatio = 1.05
	OracleSlack      = 1.05
)

// Summary sums the runs of one pacer on one cell, over seeds.
type Summary struct {
	Runs                   int
	TimeRatio              float64 // mean finish / ideal
	WorstTimeRatio         float64
	JobCalls, JobThrottled int
	ProdCalls, ProdFailed  int
	WorstProdServed        float64
	Unfinished             int
}

// Add counts one run.
func (s *Summary) Add(r Result) {
	if s.Runs == 0 {
		s.WorstProdServed = 1
	}
	s.Runs++
	tr := r.TimeRatio()
	s.TimeRatio += (tr - s.TimeRatio) / float64(s.Runs)
	s.WorstTimeRatio = math.Max(s.WorstTimeRatio, tr)
	s.JobCalls += r.JobCalls
	s.JobThrottled += r.JobThrottled
	s.ProdCalls += r.ProdCalls
	s.ProdFailed += r.ProdFailed
	s.WorstProdServed = math.Min(s.WorstProdServed, r.ProdServed())
	if !r.Done {
		s.Unfinished++
	}
}

// ProdServed is production's served share over all runs.
func (s Summary) ProdServed() float64 {
	if s.ProdCalls == 0 {
		return 1
	}
	return 1 - float64(s.ProdFailed)/float64(s.ProdCalls)
}

// JobThrottleRate is the job's throttled share over all runs.
func (s Summary) JobThrottleRate() float64 {
	if s.JobCalls == 0 {
		return 0
	}
	return float64(s.JobThrottled) / float64(s.JobCalls)
}

// Goal is what a cell asks of a controller.
type Goal struct {
	MaxTimeRatio  float64
	MinProdServed float64
	// MaxJobThrottled is 2%, or the oracle's throttled share plus one
	// point where the oracle cannot keep it under 2%.
	MaxJobThrottled float64
	// OracleBound says the oracle could not meet the standard goal, so
	// the goal is relative to it.
	OracleBound bool
}

// GoalFor derives a cell's goal from the oracle's runs of it: the
// standard goal where the oracle meets it, else the oracle's time plus 5%
// at the oracle's production served.
func GoalFor(oracle Summary) Goal {
	g := Goal{MaxTimeRatio: MaxTimeRatio, MinProdServed: MinProdServed, MaxJobThrottled: MaxJobThrottled}
	if oracle.TimeRatio > MaxTimeRatio || oracle.ProdServed() < MinProdServed ||
		oracle.JobThrottleRate() > MaxJobThrottled {
		g.OracleBound = true
		g.MaxTimeRatio = math.Max(MaxTimeRatio, oracle.TimeRatio*OracleSlack)
		g.MinProdServed = math.Min(MinProdServed, oracle.ProdServed())
		g.MaxJobThrottled = math.Max(MaxJobThrottled, oracle.JobThrottleRate()+0.01)
	}
	return g
}

// DefaultLimit is when, in multiples of its ideal time, a run that has
// not finished is ended (Scenario.Limit 0).
const DefaultLimit = 20

// Limit is how long a controller's run of a cell whose ideal time is ideal
// may go on: the default 20x, or as long as the goal allows where the
// oracle itself is slower, so that a run is cut off only once it has
// missed its time.
func (g Goal) Limit(ideal time.Duration) time.Duration {
	return time.Duration(math.Max(DefaultLimit, g.MaxTimeRatio) * float64(ideal))
}

// Misses says which goals s misses ("" when none).
func (g Goal) Misses(s Summary) string {
	var m string
	if s.Unfinished > 0 {
		m += fmt.Sprintf(" %d runs unfinished;", s.Unfinished)
	}
	if s.TimeRatio > g.MaxTimeRatio {
		m += fmt.Sprintf(" time/ideal %.3f > %.3f;", s.TimeRatio, g.MaxTimeRatio)
	}
	if s.ProdServed() < g.MinProdServed {
		m += fmt.Sprintf(" production served %.4f < %.3f;", s.ProdServed(), g.MinProdServed)
	}
	if s.JobThrottleRate() > g.MaxJobThrottled {
		m += fmt.Sprintf(" job throttled %.2f%% > %.2f%%;", 100*s.JobThrottleRate(), 100*g.MaxJobThrottled)
	}
	return m
}
