package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/target"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// plan is what the run decided before it opens a file or makes a call that
// changes anything: the input scanned, the region, the paths, the
// fingerprint, the protect list. Nothing changes it once plan returns it,
// but the DescribeUserPool cache the pre-flight fills (pools).
//
// The helpers of the later phases are its methods (they keep the receiver
// name r from when they were methods of run): they read the plan, and take
// what a later phase made as arguments.
type plan struct {
	*run

	// input is the input the run reads: --input, a rollback's source
	// report, or a --select run's manifest (the query's temporary file
	// until open commits it).
	input  string
	src    Source // the input as scanned
	format input.Format
	scan   input.Summary
	tally  tally // what the pre-pass learnt besides scan (prepass.go)
	attrs  []string
	region string

	// reportPath and checkpointPath are the addresses the run was given or
	// derived: files or s3:// (the storage maps them to local files).
	reportPath, checkpointPath  string
	fingerprint, jobFingerprint string

	protect        *protectSet // --protect-file now, --protect-group at admit
	protectFileSHA string
	sel            *selection // --select's manifest; nil without

	pools describedPools // DescribeUserPool, once per pool (safety.go)

	backup *backup.Index // restore's --from-backup (restore.go)
}

// plan makes the run's plan: the input fetched and scanned, its columns
// and the region checked, the paths named, --protect-file read and a
// --select query made, and the fingerprint of it all. store fetches an
// input that is not a local file.
func (r *run) plan(ctx context.Context, store Storage) (*plan, error) {
	p := &plan{run: r, input: r.o.Input}
	if err := p.scanInput(ctx, store); err != nil {
		return p, err
	}
	if err := p.checkColumns(); err != nil {
		return p, err
	}
	region, err := r.region()
	if err == nil {
		err = p.checkPoolRegion(region)
	}
	if err != nil {
		return p, usage(err)
	}
	p.region = region
	p.reportPath, p.checkpointPath = r.paths(p.input)
	files := []namedPath{{"report", p.reportPath}, {"checkpoint", p.checkpointPath}, {"timeline", timeline.PathFor(p.checkpointPath)}}
	if r.o.Action == batch.Delete && !r.o.DryRun { // the runs that open --backup (identity.go)
		files = append(files, namedPath{"backup", r.o.Backup})
	}
	if err := store.Check(files...); err != nil {
		return p, err
	}
	if err := p.prepareSafety(ctx, store); err != nil {
		return p, err
	}
	p.jobFingerprint = p.computeFingerprint()
	p.fingerprint = r.shard.Fingerprint(p.jobFingerprint)
	return p, nil
}

// close drops what the plan holds: a spooled input, a --select query
// never committed.
func (p *plan) close() {
	p.sel.cleanup()
	p.src.Close()
	if p.backup != nil {
		p.backup.Close()
	}
}

// paths names the report and the checkpoint: the flags, with the shard's
// and a dry run's tags, else the defaults named from input (paths.go).
func (r *run) paths(input string) (rep, ckpt string) {
	o := r.o
	rep = o.Report
	if rep == "" {
		rep = DefaultReportPath(input, string(o.Action), r.shard.Tag(), o.DryRun)
	} else {
		rep = r.tagged(rep)
	}
	ckpt = o.Checkpoint
	if ckpt == "" {
		ckpt = CheckpointPathFor(rep)
	} else {
		ckpt = r.tagged(ckpt)
	}
	return rep, ckpt
}

// scanInput fetches or spools the input, settles the format and makes the
// pre-pass.
func (p *plan) scanInput(ctx context.Context, store Storage) error {
	o := p.o
	if o.Action == batch.Rollback {
		return p.prepareRollback()
	}
	if o.Action == batch.Restore && p.input == "" {
		return p.prepareRestore(store)
	}
	if o.Select != "" && p.input == "" {
		return nil // the query waits for the run's paths (selectUsers)
	}
	if err := p.openSource(ctx, store); err != nil {
		return err
	}
	if o.Format != "" {
		p.format = input.Format(o.Format)
	} else if f, ok := input.FormatFromPath(p.input); ok {
		p.format = f
	} else {
		return usage(fmt.Errorf("cannot tell the format of %s from its extension: add --format csv or --format ndjson", p.input))
	}
	if o.Action == batch.DeleteAttributes {
		attrs, err := ParseAttributes(o.Attributes)
		if err != nil {
			return usage(err)
		}
		p.attrs = attrs
	}
	f, err := p.src.Open()
	if err != nil {
		return usage(fmt.Errorf("open input: %w", err))
	}
	defer f.Close()
	p.tally = newTally(p.run)
	sum, err := input.Scan(ctx, f, p.format, p.tally.key(func(row input.Row) string { return target.Key(row, o.UserPoolID) }))
	if err != nil {
		if ctx.Err() != nil {
			// Nothing was called yet: the same command starts afresh.
			return fmt.Errorf("read input %s: %w", p.displayInput(), batch.ErrInterrupted)
		}
		if errors.Is(err, input.ErrNoColumns) {
			return usage(fmt.Errorf("input %s: %w", p.displayInput(), err))
		}
		return usage(fmt.Errorf("read input %s: %w", p.displayInput(), err))
	}
	p.scan = sum
	if o.Action == batch.Restore {
		return p.prepareRestore(store)
	}
	return nil
}

// openSource makes the input a Source: stdin spooled, else what the
// storage fetches (an S3 object spooled, a local file as it is).
func (p *plan) openSource(ctx context.Context, store Storage) error {
	p.src.Close() // a --select run scans its manifest after its preset
	if p.input != "-" {
		src, err := store.Input(ctx, p.input)
		p.src = src
		return err
	}
	sp, err := input.SpoolReader(ctx, p.env.Stdin, "", p.o.MaxStdinSize)
	switch {
	case ctx.Err() != nil:
		return batch.ErrInterrupted
	case err != nil:
		return usage(fmt.Errorf("read stdin: %w", err))
	}
	p.src = Source{Spool: sp}
	return nil
}

// openReader opens src, the plan's input or its committed manifest, for
// a pass.
func (p *plan) openReader(src Source) (input.Reader, func(), error) {
	if p.o.Action == batch.Rollback {
		return openReportRows(src.Path)
	}
	if p.o.Action == batch.Restore && src.Path == p.o.FromBackup {
		return p.restoreRows()
	}
	f, err := src.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open input: %w", err)
	}
	rd, err := input.Open(f, p.format)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read input: %w", err)
	}
	return rd, func() { f.Close() }, nil
}

func (p *plan) displayInput() string {
	if p.input == "-" {
		return "stdin"
	}
	return p.input
}

// checkColumns refuses, before any call, an input that cannot name a user
// for this action.
func (p *plan) checkColumns() error {
	c, a := p.scan.Columns, p.o.Action
	admin := c.Username || c.Sub || c.Email
	switch {
	case p.scan.Rows == 0:
	case a == batch.SelfDelete && !c.AccessToken:
		return usage(errors.New("input has no access_token column: self-delete needs each user's access token"))
	case a.TokenCapable() && !c.AccessToken && !admin:
		return usage(errors.New("input has no username, sub, email or access_token column"))
	case !a.TokenCapable() && !admin:
		return usage(errors.New("input has no username column (username, Username or cognito:username; or sub, email)"))
	}
	if p.scan.FirstQuoteErrLine > 0 && a.Destructive() {
		return usage(fmt.Errorf("input line %d: a quoted field is not closed properly, so the lines after it may have been read as usernames; fix the file (an irreversible %s refuses it)",
			p.scan.FirstQuoteErrLine, a))
	}
	return nil
}

func (p *plan) hasAdminRows() bool {
	c := p.scan.Columns
	return c.Username || c.Sub || c.Email
}

// rows is the number of rows this run owns: the input's, or its shard's
// (counted by the pre-pass).
func (p *plan) rows() int {
	if !p.shard.Sharded() {
		return p.scan.Rows
	}
	return p.tally.owned
}

// checkPoolRegion refuses a --user-pool-id of another region than the
// run's: every row that relies on it would be invalid and its pre-flight
// could not find it, so it is a usage error before any call. Rows' own
// user_pool_id are judged row by row (batch).
func (p *plan) checkPoolRegion(region string) error {
	pool := p.o.UserPoolID
	if pool == "" || region == "" || (!p.hasAdminRows() && p.o.Select == "") || input.ValidPoolID(pool) != nil {
		return nil
	}
	if pr := input.PoolRegion(pool); pr != region {
		return fmt.Errorf("--user-pool-id %s is a pool of %s, but the run's region is %s (from %s): give --region %s, or the pool of %s",
			pool, pr, region, p.regionSource(), pr, region)
	}
	return nil
}

// computeFingerprint covers everything that changes what the run does.
func (p *plan) computeFingerprint() string {
	o := p.o
	h := sha256.New()
	fmt.Fprintf(h, "input=%s\naction=%s\npool=%s\nregion=%s\ndry=%t\nattrs=%s\nmax_users=%d\nmax_fraction=%g\n",
		p.scan.SHA256, o.Action, o.UserPoolID, p.region, o.DryRun, strings.Join(p.attrs, ","), o.MaxUsers, o.MaxFraction)
	if p.backup != nil {
		fmt.Fprintf(h, "backup=%s\ninvite=%t\n", p.backup.SHA256, o.ResendInvitation)
	}
	p.fingerprintSafety(h)
	return hex.EncodeToString(h.Sum(nil))
}
