package account

import (
	"math"
	"time"
)

// Margin is the share of the free quota a run plans to take: production's
// peak is a minute's mean (its seconds vary around it) and is minutes old.
const Margin = 0.9

// Estimate is what a run expects to get and how long it expects to take.
type Estimate struct {
	// Free is the rate the quota leaves over production's recent peak,
	// with the margin, calls per second (at least MinFree).
	Free float64 `json:"free"`
	// Duration is the time the run's calls take at Free.
	Duration time.Duration `json:"duration"`
}

// MinFree is the lowest free share planned for: production at or over the
// quota still leaves the job a trickle, which its controller lowers or
// raises from what the service answers.
const MinFree = 1.0

// Plan says what a run of rows rows, callsPerRow calls of the quota's
// category each, can expect: the quota minus production's recent peak,
// times Margin, and the time its calls take at that rate. Without a known
// usage it plans, as cogsweep did before it read CloudWatch, on half the
// quota.
func Plan(q Quota, u Usage, rows int, callsPerRow float64) Estimate {
	free := q.Applied / 2
	if u.Known {
		free = (q.Applied - u.Peak) * Margin
	}
	free = math.Max(free, math.Min(MinFree, q.Applied))
	return Estimate{Free: free, Duration: Duration(float64(rows)*callsPerRow, free)}
}

// Duration is the time calls take at rate per second, in whole seconds
// (at least one: "about 0s" reads as a fault).
func Duration(calls, rate float64) time.Duration {
	if rate <= 0 || calls <= 0 {
		return 0
	}
	return max(time.Duration(calls/rate*float64(time.Second)).Round(time.Second), time.Second)
}
