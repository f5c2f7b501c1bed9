package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cogsweep/cogsweep/internal/pace"
)

// Ceiled is the limiter the outer loop holds under a ceiling
// (*pace.Limiter).
type Ceiled interface {
	Rate() float64
	Top() float64
	SetCeiling(c float64)
}

// Watch reads the account's usage of a category every Every during a run
// and feeds production's throttles (ThrottleCount less the job's own) to
// the outer loop (pace.OuterConfig), which sets the limiter's ceiling.
// The metric comes at 1- to 5-minute resolution and minutes late: it
// corrects a long run, never the first minutes of one.
type Watch struct {
	Reader   *Reader
	Category Category
	// Every is the time between two readings.
	Every time.Duration
	// Lag is how old a period must be before it is judged: CloudWatch
	// publishes a period's data over a few minutes, and a period judged
	// half-published is never judged again.
	Lag time.Duration
	// Timeout bounds each reading.
	Timeout time.Duration
	Own     *Own
	Limiter Ceiled
	Outer   pace.OuterConfig
	// Now is the clock of the periods and of Own (nil: time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// maxLookBack bounds a reading's window: after a long failure of
// CloudWatch the loop judges the last hour, not the whole run.
const maxLookBack = time.Hour

// Run reads every Every until ctx ends.
func (w *Watch) Run(ctx context.Context) {
	st := pace.StartOuter(w.now())
	t := time.NewTicker(w.Every)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next, err := w.Poll(ctx, st)
		if err != nil && ctx.Err() == nil {
			var un *Unavailable
			noData := errors.As(err, &un) && errors.Is(un.Err, errNoData)
			switch {
			case noData:
				// Nothing published since the last reading yet.
				w.Log.Debug("CloudWatch: no new usage published", "category", string(w.Category))
			case !warned:
				warned = true
				w.Log.Warn("reading production's load during the run failed; the rate is left as it is: "+err.Error(), "category", string(w.Category))
			default:
				w.Log.Debug("reading production's load failed again", "error", err.Error())
			}
		}
		st = next
	}
}

// Poll makes one reading: the periods published since the last judged
// one, each less the job's own calls, judged by the outer loop.
func (w *Watch) Poll(ctx context.Context, st pace.OuterState) (pace.OuterState, error) {
	now := w.now()
	to := now.Add(-w.Lag).Truncate(Period)
	from := st.Since.Truncate(Period)
	if floor := to.Add(-maxLookBack); from.Before(floor) {
		from = floor
	}
	if !to.After(from) {
		return st, nil
	}
	rctx, cancel := context.WithTimeout(ctx, w.Timeout)
	mins, err := w.Reader.ReadMinutes(rctx, w.Category, from, to)
	cancel()
	if err != nil {
		return st, err
	}
	own := w.ownMinutes(mins, to)
	rate := w.Limiter.Rate()
	next, v := w.Outer.Next(st, own, rate, w.Limiter.Top(), now)
	if v.Minutes == 0 {
		return next, nil
	}
	attrs := []any{"category", string(w.Category), "minutes", v.Minutes, "production_calls", v.ProdCalls,
		"production_throttled", v.ProdThrottled, "rate", rate, "ceiling", next.Ceiling}
	switch v.Change {
	case "cut":
		w.Limiter.SetCeiling(next.Ceiling)
		w.Log.Warn(fmt.Sprintf("production is being throttled (%.0f of its %.0f %s calls over %d minute(s), the job's own throttles excepted): holding the job under %.3g/s",
			v.ProdThrottled, v.ProdCalls, w.Category, v.Minutes, next.Ceiling), attrs...)
	case "raise":
		w.Limiter.SetCeiling(next.Ceiling)
		w.Log.Info(fmt.Sprintf("production is served again: the job's ceiling is raised to %.3g/s", next.Ceiling), attrs...)
	case "lift":
		w.Limiter.SetCeiling(0)
		w.Log.Info("production is served again: the job's ceiling is lifted", attrs...)
	default:
		w.Log.Info("production's load from CloudWatch", attrs...)
	}
	return next, nil
}

// ownMinutes pairs each period with the job's own calls in it. A period
// spans until the next one at the metric's resolution (at 5-minute
// resolution a data point sums five minutes); a minute without a data
// point had no call, the job's included. Nothing at or after to is
// counted: it is not published yet.
func (w *Watch) ownMinutes(mins []MinuteUsage, to time.Time) []pace.Minute {
	res := Period
	for i := 1; i < len(mins); i++ {
		if d := mins[i].Start.Sub(mins[i-1].Start); d > 0 && (i == 1 || d < res) {
			res = d
		}
	}
	out := make([]pace.Minute, 0, len(mins))
	for i, m := range mins {
		end := m.Start.Add(res)
		if i+1 < len(mins) && mins[i+1].Start.Before(end) {
			end = mins[i+1].Start
		}
		if end.After(to) {
			end = to
		}
		pm := pace.Minute{Start: m.Start, Calls: m.Calls, Throttles: m.Throttles}
		for t := m.Start; t.Before(end); t = t.Add(time.Minute) {
			c, thr := w.Own.Minute(t)
			pm.OwnCalls += c
			pm.OwnThrottles += thr
		}
		out = append(out, pm)
	}
	return out
}

func (w *Watch) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}
