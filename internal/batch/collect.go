package batch

import (
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/retry"
)

// collect is the one writer of outcomes. It returns the first sink error;
// after one it stops the run (the report is the product: no point going on
// without it).
func (j *Job) collect(results <-chan result, st *Stats, fail func(*retry.FatalError)) error {
	c := collector{j: j, st: st, now: j.now, fail: fail, lastSync: j.now(), lastProgress: j.now()}
	for r := range results {
		if c.err == nil {
			c.handle(&r)
		}
		if r.ack != nil {
			r.ack <- struct{}{}
		}
	}
	if c.err == nil {
		c.err = j.sync()
	}
	return c.err
}

type collector struct {
	j                      *Job
	st                     *Stats
	now                    func() time.Time
	fail                   func(*retry.FatalError)
	err                    error
	streak, forbidden      int
	unsynced               int
	lastSync, lastProgress time.Time
}

func (c *collector) handle(r *result) {
	j, st := c.j, c.st
	if err := j.Report.Write(&r.rec); err != nil {
		c.err = fmt.Errorf("write report: %w", err)
		c.fail(&retry.FatalError{Code: "ReportWriteFailed", Row: r.rec.Row, Err: err})
		return
	}
	c.unsynced++
	st.Rows++
	st.Counts[r.rec.Outcome]++
	st.Calls += r.calls
	st.Reads += r.reads
	st.Writes += r.writes
	st.Throttles += r.throttles
	st.Retries += r.retries
	if r.rec.Repeated {
		st.Repeated++
	}
	c.streak = bump(c.streak, r.transient, r.calls > 0)
	c.forbidden = bump(c.forbidden, r.forbidden, r.calls > 0)
	if j.MaxStreak > 0 && (c.streak >= j.MaxStreak || c.forbidden >= j.MaxStreak) {
		code, why := r.rec.ErrorCode, "failed after every retry"
		if c.forbidden >= j.MaxStreak {
			why = "were refused by the service's firewall (WAF)"
		}
		c.fail(&retry.FatalError{Code: code, Row: r.rec.Row,
			Err: fmt.Errorf("%d rows in a row %s (%s): the service is failing, not the rows", j.MaxStreak, why, code)})
	}
	t := c.now()
	// Group fsync: every 256 outcomes or 200 ms, whichever comes first.
	if c.unsynced >= 256 || t.Sub(c.lastSync) >= 200*time.Millisecond {
		if err := j.sync(); err != nil {
			c.err = err
			c.fail(&retry.FatalError{Code: "ReportWriteFailed", Row: r.rec.Row, Err: err})
			return
		}
		c.unsynced, c.lastSync = 0, t
	}
	every := j.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	if j.Progress != nil && t.Sub(c.lastProgress) >= every {
		c.lastProgress = t
		snap := *st
		snap.Elapsed = t.Sub(st.Started)
		snap.WriteRate, snap.ReadRate = j.rates()
		j.Progress(snap)
	}
}

// rates are the write and read limiters' rates now (0 without one).
func (j *Job) rates() (write, read float64) {
	if j.Writes != nil {
		write = j.Writes.Rate()
	}
	if j.Reads != nil {
		read = j.Reads.Rate()
	}
	return write, read
}

func bump(n int, hit, called bool) int {
	switch {
	case hit:
		return n + 1
	case called:
		return 0
	}
	return n
}

func (j *Job) sync() error {
	if err := j.Report.Sync(); err != nil {
		return fmt.Errorf("sync report: %w", err)
	}
	if j.Intents != nil {
		if err := j.Intents.Sync(); err != nil {
			return fmt.Errorf("sync checkpoint: %w", err)
		}
	}
	return nil
}
