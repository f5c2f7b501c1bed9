package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// settle leaves one line per row: rows not reached get not_attempted, the
// report is compacted, the checkpoint records how the run ended, the
// storage keeps both, and the summary is printed. It returns the run's
// error, the exit code's source: a failure to settle is a SettleError
// naming the run's own end too.
func (p *plan) settle(ctx context.Context, store Storage, f *opened, x *executed) error {
	defer x.rw.Close()
	runErr := x.runErr
	end := runErr
	if end == nil {
		end = x.predicted // a dry run a guard refuses: its rows were not read
	}
	if err := p.fillNotAttempted(f.src, x.sink, end); err != nil {
		return settleFailed(runErr, err)
	}
	if err := x.rw.Close(); err != nil {
		return settleFailed(runErr, fmt.Errorf("close report: %w", err))
	}
	final, err := f.files.compact(p.scan.Rows)
	if err != nil {
		return settleFailed(runErr, fmt.Errorf("compact report: %w", err))
	}
	status, reason := "finished", ""
	switch {
	case errors.Is(runErr, batch.ErrInterrupted):
		status = "interrupted"
	case runErr != nil:
		status, reason = "aborted", runErr.Error()
	}
	if err := f.journal.End(status, reason); err != nil {
		return settleFailed(runErr, fmt.Errorf("write checkpoint: %w", err))
	}
	if err := f.journal.Sync(); err != nil {
		return settleFailed(runErr, fmt.Errorf("sync checkpoint: %w", err))
	}
	if err := store.Finish(ctx); err != nil {
		return settleFailed(runErr, err)
	}
	p.endMetrics(x.stats, final.Counts, p.rows())
	if err := p.summarize(x, final, status, f.header.Audit); err != nil {
		return settleFailed(runErr, err)
	}
	if runErr != nil {
		if errors.Is(runErr, batch.ErrInterrupted) {
			fmt.Fprintf(p.env.Stderr, "cogsweep: interrupted; run the same command again to resume (report %s)\n", p.reportPath)
		}
		return runErr
	}
	if x.predicted != nil {
		return x.predicted // a dry run: the real run would be refused
	}
	problems := final.Counts[report.Invalid] + final.Counts[report.Failed] + final.Counts[report.NotAttempted] +
		final.Counts[report.NotInBackup]
	if problems > 0 {
		return &RowProblems{N: problems}
	}
	return nil
}

// trackingSink notes which rows got a line, for the not_attempted fill.
type trackingSink struct {
	*report.Writer
	have *report.Bitset
}

func (s *trackingSink) Write(rec *report.Record) error {
	if err := s.Writer.Write(rec); err != nil {
		return err
	}
	s.have.Set(rec.Row)
	return nil
}

// fillNotAttempted gives every row without a line a not_attempted line, so
// a run that ends by itself leaves one line per row: the input's third
// and last pass.
func (p *plan) fillNotAttempted(src Source, sink *trackingSink, runErr error) error {
	if sink.have.Count() >= p.rows() {
		return nil
	}
	in, closeIn, err := p.openReader(src)
	if err != nil {
		return err
	}
	defer closeIn()
	msg := notReached(runErr)
	now := time.Now().UTC()
	for {
		row, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if sink.have.Has(row.N) || !p.shard.Owns(row) {
			continue
		}
		rec := notAttempted(row, p.o.UserPoolID, p.o.Action, msg, now)
		if err := sink.Write(&rec); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return sink.Sync()
}

// notReached is the message of the rows a run did not reach.
func notReached(runErr error) string {
	msg := "not reached"
	var fe *retry.FatalError
	switch {
	case errors.As(runErr, &fe):
		msg = "not reached: the run stopped (" + fe.Code + ")"
	case errors.Is(runErr, batch.ErrInterrupted):
		msg = "not reached: the run was interrupted"
	}
	if m := refusedMessage(runErr); m != "" {
		msg = m
	}
	return msg
}

// notAttempted is row's not_attempted record, naming the user as the
// pipeline's record of it would (target.NotReached).
func notAttempted(row input.Row, pool string, action batch.Action, msg string, now time.Time) report.Record {
	rec := target.NotReached(row, pool)
	rec.Outcome, rec.Action, rec.Message, rec.At = report.NotAttempted, string(action), msg, now
	return rec
}
