package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
)

// Rollback's input is the report of a disable run. Its rows are the
// report's lines, keeping their row numbers (which may be sparse, for a
// shard's report, and are in no particular order); the run's row total is
// the largest row. Lines that say disabled are enabled again; every other
// line ends skipped: already_disabled above all, since a user who was
// disabled before that run (for fraud, say) must stay disabled.

// maxReportRow bounds the row numbers of a report rollback reads: bitsets
// are sized by the largest row, and no input has a billion rows.
const maxReportRow = 1 << 30

// rollbackColumns are what every report line carries for an admin row.
var rollbackColumns = input.Columns{Username: true, UserPoolID: true}

// sourceRun completes a rollback's options from --from-report: it checks
// that the file is the finished report of a disable run, and the pool and
// region default to that run's, from the report header. It returns a copy:
// o is left as it was.
func sourceRun(o *Options) (*Options, error) {
	path := o.FromReport
	if path == "-" {
		return nil, usage(errors.New("--from-report needs the report file itself, not stdin"))
	}
	h, err := report.ReadHeader(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usage(fmt.Errorf("--from-report %s: no such file", path))
	case errors.Is(err, report.ErrNoHeader):
		return nil, usage(fmt.Errorf("--from-report %s is not a cogsweep report (its first line is not a report header)", path))
	case err != nil:
		return nil, usage(fmt.Errorf("--from-report: %w", err))
	}
	if h.Action != string(batch.Disable) {
		return nil, usage(fmt.Errorf("--from-report %s is the report of a %s run: rollback undoes a disable run only", path, h.Action))
	}
	if h.DryRun {
		return nil, usage(fmt.Errorf("--from-report %s is the plan of a dry run: it disabled nobody", path))
	}
	if err := checkSourceRun(path, h); err != nil {
		return nil, usage(err)
	}
	c := o.clone()
	if pool := auditPool(h.Audit); pool != "" && c.UserPoolID == "" {
		c.UserPoolID = pool
		fromReport(c, "user-pool-id", pool)
	}
	if region, _ := h.Audit["region"].(string); region != "" && c.Region == "" {
		// The users are where the disable run found them, whatever
		// AWS_REGION says today.
		c.Region = region
		fromReport(c, "region", region)
	}
	c.Input = path
	return c, nil
}

// prepareRollback is prepareInput for rollback: it makes the pre-pass over
// the source report (largest row, content hash) that sourceRun checked.
func (r *plan) prepareRollback() error {
	path := r.o.FromReport
	r.tally = newTally(r.run)
	sum, err := scanReportRows(path, r.tally.observe)
	if err != nil {
		return usage(err)
	}
	r.src, r.scan = Source{Path: path}, sum
	return nil
}

// fromReport records for the audit that option name took its value from the
// source report.
func fromReport(o *Options, name, value string) {
	o.Sources[name] = "from-report"
	if o.Values != nil {
		o.Values[name] = value
	}
}

// auditPool is the --user-pool-id of the run whose report header carries
// audit: the option's recorded value, else the older "pool" field.
func auditPool(audit map[string]any) string {
	if opts, ok := audit["options"].(map[string]any); ok {
		if opt, ok := opts["user-pool-id"].(map[string]any); ok {
			if v, _ := opt["value"].(string); v != "" {
				return v
			}
		}
	}
	pool, _ := audit["pool"].(string)
	return pool
}

// checkSourceRun refuses a report whose run is still going (it would race
// with the rollback) or was killed (calls in flight then may have disabled
// users that no line says disabled). It looks at the checkpoint beside the
// report when there is one of the same run; a report copied elsewhere is
// taken as it is.
func checkSourceRun(path string, h report.Header) error {
	cp := CheckpointPathFor(path)
	st, err := checkpoint.Status(cp)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the disable run's checkpoint %s: %w", cp, err)
	}
	if !st.HasHeader || st.Header.Fingerprint != h.Fingerprint {
		return nil // another run's checkpoint: it says nothing of this report
	}
	switch {
	case st.Locked:
		return fmt.Errorf("the disable run of %s is still running (checkpoint %s is locked): wait for it to end, or stop it, then roll back", path, cp)
	case st.Runs > 0 && !st.Ended:
		return fmt.Errorf("the disable run of %s was killed (checkpoint %s): its calls in flight may have disabled users that no report line says disabled; run the same disable command again so it settles them (Ctrl-C stops it cleanly), then roll back", path, cp)
	}
	return nil
}

// scanReportRows makes rollback's pre-pass: the largest row, the number of
// lines and the SHA-256 of the whole file. A report with a torn or
// unparsable line, or two lines for one row, is not the compacted report of
// a run that ended by itself: refused.
func scanReportRows(path string, observe func(input.Row)) (input.Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return input.Summary{}, fmt.Errorf("open --from-report: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	lr := fsutil.NewLineReader(io.TeeReader(f, h), 0)
	var (
		seen report.GrowBits
		sum  = input.Summary{Columns: rollbackColumns}
	)
	for n := 1; ; n++ {
		raw, _, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return input.Summary{}, fmt.Errorf("read --from-report %s: %w", path, err)
		}
		if n == 1 {
			continue // the header, checked by ReadHeader
		}
		if !complete {
			return input.Summary{}, fmt.Errorf("--from-report %s ends in a torn line: its run was killed; run the same disable command again to finish it, then roll back", path)
		}
		line, ok := parseReportLine(raw)
		if !ok {
			return input.Summary{}, fmt.Errorf("--from-report %s line %d is not a report record", path, n)
		}
		if line.Row > maxReportRow {
			return input.Summary{}, fmt.Errorf("--from-report %s line %d: row %d is out of range", path, n, line.Row)
		}
		if seen.Has(line.Row) {
			return input.Summary{}, fmt.Errorf("--from-report %s has two lines for row %d: it is not the compacted report of a run that ended; run the same disable command again to finish it, then roll back", path, line.Row)
		}
		seen.Set(line.Row)
		sum.Rows = max(sum.Rows, line.Row)
		observe(line.row())
	}
	sum.SHA256 = hex.EncodeToString(h.Sum(nil))
	return sum, nil
}

// reportLine is what rollback reads of a report line.
type reportLine struct {
	Row        int            `json:"row"`
	Outcome    report.Outcome `json:"outcome"`
	Transient  bool           `json:"transient"`
	Username   string         `json:"username"`
	UserPoolID string         `json:"user_pool_id"`
}

// row is the line as rollback's input row.
func (l reportLine) row() input.Row {
	return input.Row{N: l.Row, Username: l.Username, UserPoolID: l.UserPoolID}
}

func parseReportLine(raw []byte) (reportLine, bool) {
	var l reportLine
	if json.Unmarshal(raw, &l) != nil || l.Row < 1 || l.Outcome == "" {
		return reportLine{}, false
	}
	return l, true
}

// openReportRows opens rollback's rows, the report at path.
func openReportRows(path string) (input.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open --from-report: %w", err)
	}
	return &reportRows{lr: fsutil.NewLineReader(f, 0)}, func() { f.Close() }, nil
}

// reportRows reads a disable report's lines as rows: the line's row, username
// and pool. It is a batch.SkipReader: every line but a disabled one is
// skipped, with the reason.
type reportRows struct {
	lr     *fsutil.LineReader
	header bool // the header line was read
	last   reportLine
}

var _ batch.SkipReader = (*reportRows)(nil)

func (rr *reportRows) Columns() input.Columns { return rollbackColumns }

// Next returns the next line as a row. Lines that are not records were
// refused by the pre-pass; should the file change since, they are passed
// over rather than guessed at.
func (rr *reportRows) Next() (input.Row, error) {
	for {
		raw, _, complete, err := rr.lr.Next()
		if err != nil {
			return input.Row{}, err // io.EOF at the end
		}
		if !rr.header {
			rr.header = true
			continue
		}
		l, ok := parseReportLine(raw)
		if !complete || !ok {
			continue
		}
		rr.last = l
		return l.row(), nil
	}
}

// SkipReason decides the row Next returned last. Only a disabled line is
// acted on; anything it cannot match to its line is skipped, never enabled.
func (rr *reportRows) SkipReason(row input.Row) (string, bool) {
	l := rr.last
	switch {
	case row.N != l.Row:
		return "not matched to its line of the disable report", true
	case l.Outcome == report.Disabled:
		return "", false
	case l.Outcome == report.AlreadyDisabled:
		return "already_disabled before the disable run: rollback leaves it disabled", true
	case l.Outcome == report.Failed && l.Transient:
		return "failed (transient) in the disable report: the call may or may not have reached Cognito, so check this user", true
	}
	return fmt.Sprintf("%s in the disable report: that run did not disable it", l.Outcome), true
}
