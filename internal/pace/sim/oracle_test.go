package sim

import (
	"testing"
	"time"
)

// TestOracle_RunsUntilItFinishes: on a bucket one call deep the best fixed
// rate that keeps production served is about 0.5/s, which needs about 50x
// the ideal time. Cut off at 20x like any run, the oracle reported 20x and
// unfinished, and the cell's goal (the oracle's time + 5%) understated it.
func TestOracle_RunsUntilItFinishes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cell     Cell
		min, max float64 // the oracle's time / ideal
	}{
		{"depth 1: a crawl, past the usual cut-off", Cell{Depth: 1, Pattern: Even, Schedule: Steady, Length: 40 * time.Second, Latency: 30 * time.Millisecond}, DefaultLimit, OracleLimit},
		{"depth 25: near the ideal, as before", Cell{Depth: 25, Pattern: Even, Schedule: Steady, Length: 40 * time.Second, Latency: 30 * time.Millisecond}, 0.9, MaxTimeRatio},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOracle()
			for seed := uint64(1); seed <= 2; seed++ {
				sc := tc.cell.Scenario(seed, 1)
				res, _ := o.Run(sc)
				if !res.Done {
					t.Fatalf("seed %d: unfinished at %.1fx the ideal (rates %+v)", seed, res.TimeRatio(), o.Rates(sc))
				}
				if r := res.TimeRatio(); r < tc.min || r > tc.max {
					t.Errorf("seed %d: time/ideal %.2f, want within [%v, %v]", seed, r, tc.min, tc.max)
				}
			}
		})
	}
}

// TestGoal_Limit: a controller's run goes on as long as its goal allows,
// so that "unfinished" means it missed its time, not that the run was
// cut off before the oracle's own time.
func TestGoal_Limit(t *testing.T) {
	ideal := 40 * time.Second
	for _, tc := range []struct {
		name   string
		oracle Summary
		want   time.Duration
	}{
		{"oracle within the standard goal: the usual cut-off", Summary{Runs: 1, TimeRatio: 1.02, ProdCalls: 100}, DefaultLimit * ideal},
		{"oracle at 50x: the goal's 52.5x", Summary{Runs: 1, TimeRatio: 50, ProdCalls: 100}, time.Duration(52.5 * float64(ideal))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := GoalFor(tc.oracle).Limit(ideal); got != tc.want {
				t.Errorf("Limit = %v, want %v", got, tc.want)
			}
		})
	}
}
