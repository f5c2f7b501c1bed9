package cli

import (
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/report"
)

// StatusEstimate is the plan's estimate (the audit record's account
// figures) against the run's progress, for `cogsweep status`.
type StatusEstimate struct {
	Free            float64 `json:"free"` // calls/s the plan expected
	Rows            int     `json:"rows"` // rows the plan covered
	EstimateSeconds float64 `json:"estimate_seconds"`
	ElapsedSeconds  float64 `json:"elapsed_seconds"` // since the first run started
	Done            float64 `json:"done"`            // share of the planned rows done
	// Pace is "on pace", "behind" or "finished".
	Pace string `json:"pace"`
}

// paceSlack is how far behind the plan's line a run may be and still be
// on pace: the plan's free share is a minute's mean, minutes old.
const paceSlack = 0.9

// planEstimate compares the plan in h's audit record with done rows at
// end (now for a live run, the last update otherwise). nil: no plan.
func planEstimate(h *report.Header, done int, end time.Time, finished bool) *StatusEstimate {
	if h == nil {
		return nil
	}
	acct, _ := h.Audit["account"].(map[string]any)
	free, _ := acct["free"].(float64)
	rows, _ := acct["rows"].(float64)
	est, _ := acct["estimate_seconds"].(float64)
	if rows <= 0 || est <= 0 {
		return nil
	}
	e := &StatusEstimate{Free: free, Rows: int(rows), EstimateSeconds: est,
		ElapsedSeconds: max(end.Sub(h.StartedAt).Seconds(), 0), Done: min(float64(done)/rows, 1)}
	switch {
	case finished:
		e.Pace = "finished"
	case e.Done >= paceSlack*min(e.ElapsedSeconds/est, 1):
		e.Pace = "on pace"
	default:
		e.Pace = "behind"
	}
	return e
}

func (e *StatusEstimate) String() string {
	elapsed := "elapsed"
	if e.Pace == "finished" {
		elapsed = "taken"
	}
	return fmt.Sprintf("%s at %.3g/s free for %d rows; %s %s, %.0f%% done, %s", shortDuration(e.EstimateSeconds),
		e.Free, e.Rows, shortDuration(e.ElapsedSeconds), elapsed, 100*e.Done, e.Pace)
}

// shortDuration reads like "41m" or "1h05m" or "40s".
func shortDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	}
	return d.String()
}
