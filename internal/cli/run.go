package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pace"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

func runAction(ctx context.Context, a batch.Action, args []string, env Env) error {
	o := NewOptions(a)
	syn := synopses[a]
	fs := newFlagSet(string(a), syn[0], syn[1], env.Stderr)
	o.bind(fs)
	if err := o.parse(fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usage(err)
	}
	if err := o.Validate(); err != nil {
		return usage(err)
	}
	sh, err := resolveShard(o.Shard, o.Shards, env.Getenv)
	if err == nil {
		err = o.shardable(sh)
	}
	if err != nil {
		return usage(err)
	}
	o.perShard(sh.Count) // rates are job-wide totals; before anything reads them
	r := &run{o: o, env: env, log: newLogger(o.LogFormat, env.Stderr), shard: sh}
	if err := r.startMetrics(ctx); err != nil {
		return err
	}
	err = r.do(ctx)
	r.finishMetrics(ctx, err)
	return err
}

// run is one invocation of an action: it prepares the input and the
// checkpoint, runs the pipeline and settles the report.
type run struct {
	o   *Options
	env Env
	log *slog.Logger

	inputPath string       // a file: the input, or stdin spooled
	spool     *input.Spool // stdin or an S3 object, held unnamed
	format    input.Format
	scan      input.Summary
	attrs     []string

	reportPath, checkpointPath string
	reportLock                 *fsutil.LockedFile // see reportlock.go
	fingerprint                string
	bar                        bool // a progress bar is on stderr

	shard          Shard // see shard.go
	shardRows      int   // rows the shard owns (see rows)
	shardCounted   bool
	jobFingerprint string
	metrics        *runMetrics // --pushgateway; nil without

	safety safetyState   // guards, protect lists, --select (safety.go)
	ident  identityState // caller, email rows, --backup, audit (identity.go)
	s3     *s3Run        // s3:// paths (s3.go); nil when every path is local
	acct   accountState  // quota and production's load (account.go)
}

func (r *run) do(ctx context.Context) error {
	o := r.o
	if err := r.fetchS3Input(ctx); err != nil {
		return err
	}
	if err := r.prepareInput(ctx); err != nil {
		return err
	}
	defer r.spool.Close()
	if err := r.checkColumns(); err != nil {
		return err
	}
	region, err := r.region()
	if err == nil {
		err = r.checkPoolRegion(region)
	}
	if err != nil {
		return usage(err)
	}
	r.reportPath = o.Report
	if r.reportPath == "" {
		r.reportPath = defaultReportPath(o.Input, string(o.Action), r.shard.Tag(), o.DryRun)
	} else {
		r.reportPath = r.tagged(r.reportPath)
	}
	r.checkpointPath = o.Checkpoint
	if r.checkpointPath == "" {
		r.checkpointPath = checkpointPathFor(r.reportPath)
	} else {
		r.checkpointPath = r.tagged(r.checkpointPath)
	}
	if err := r.refuseSymlinks(); err != nil {
		return err
	}
	defer r.safety.sel.cleanup()
	if err := r.prepareSafety(ctx, region); err != nil {
		return err
	}
	r.jobFingerprint = r.computeFingerprint(region)
	r.fingerprint = r.shard.Fingerprint(r.jobFingerprint)
	defer r.closeS3(ctx)
	if err := r.openS3(ctx); err != nil {
		return err
	}
	if err := r.lockReport(); err != nil {
		return err
	}
	defer r.releaseReport()

	journal, resume, err := r.openCheckpoint()
	if err != nil {
		return err
	}
	defer journal.Close()
	defer r.closeBackup()
	if err := r.commitManifest(); err != nil {
		return err
	}

	header := report.Header{
		Kind: report.HeaderKind, SchemaVersion: report.SchemaVersion, Tool: "cogsweep", Version: versionString(),
		Action: string(o.Action), Input: r.displayInput(), Fingerprint: r.fingerprint, Rows: r.scan.Rows,
		DryRun: o.DryRun, StartedAt: time.Now().UTC(), Audit: r.audit(region),
	}
	if r.shard.Sharded() {
		header.Shard, header.JobFingerprint = r.shard.String(), r.jobFingerprint
	}
	var state report.State
	if resume {
		if state, err = r.loadReport(r.scan.Rows, o.RetryFailed); err != nil && !errors.Is(err, os.ErrNotExist) {
			return usageIfSymlink(fmt.Errorf("resume: %w", err))
		}
		r.noteDamage("report", r.reportPath, state.Corrupt, state.Torn,
			"removed (a row whose only outcome was there is done again)")
	}
	if state.Settled == nil {
		state.Settled = report.NewBitset(r.scan.Rows + 1)
		state.Have = report.NewBitset(r.scan.Rows + 1)
	}
	prior, err := journal.Intents(func(row int) bool { return !state.Settled.Has(row) })
	if err != nil {
		return fmt.Errorf("read checkpoint intents: %w", err)
	}

	// Everything from here on may call Cognito. A finished run asked again
	// with nothing left to settle makes no call: it only prints the summary
	// again. A refusal leaves every row it stops not_attempted (safety.go).
	confirmed, users, refusal, err := r.admit(ctx, journal, resume, r.rows()-state.Settled.Count(), region)
	if err != nil {
		return err
	}

	rw, err := report.OpenWriter(r.reportPath, header)
	if err != nil {
		return usageIfSymlink(err)
	}
	defer rw.Close()
	if _, err := journal.StartRun(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	sink := &trackingSink{Writer: rw, have: state.Have}
	intents, err := r.startS3(ctx, journal)
	if err != nil {
		return err
	}

	writes, workers := r.limiters()
	jobWrites, stopWatch := r.watchAccount(ctx, writes) // watch.go
	defer stopWatch()
	reads := pace.NewFixed(o.ReadRate, o.Burst)
	var gate *pace.Gate
	if workers == 0 {
		workers = maxAutoConcurrency
		gate = pace.NewGate(pace.Concurrency(writes.Rate(), initialLatency+writes.SpreadMax(), minAutoConcurrency, maxAutoConcurrency))
		gctx, stop := context.WithCancel(ctx)
		defer stop()
		go autoConcurrency(gctx, gate, writes)
	}
	opts := batch.NewOptions() // the drain timeout and the failure streak
	opts.Action, opts.Pool, opts.Region, opts.Attributes, opts.DryRun = o.Action, o.UserPoolID, region, r.attrs, o.DryRun
	opts.Concurrency, opts.Retry, opts.CallTimeout = workers, r.policy(), o.CallTimeout
	opts.ConfirmedPools, opts.OnlyDisabledFor = confirmed, o.OnlyDisabledFor
	job := &batch.Job{
		Options: opts,
		Users:   users, Writes: jobWrites, Reads: reads, Report: sink, Intents: intents,
		Skip:      state.Settled.Has,
		Include:   r.include(),
		Gate:      gateOrNil(gate),
		Prior:     prior,
		Dups:      input.NewTracker(r.scan.Dups),
		Log:       r.log,
		Protected: r.protectedFunc(),
		Now:       r.env.Now,
	}
	total := r.rows() - state.Settled.Count()
	job.Progress, job.ProgressEvery = r.progress(total)
	r.observeMetrics(job)
	if err := r.attachIdentity(job, users); err != nil {
		return err
	}
	tl := r.startTimeline(ctx, job, resume) // timeline.go
	if resume {
		r.log.Info("resuming", "checkpoint", r.checkpointPath, "rows", r.scan.Rows, "settled", state.Settled.Count(), "in_flight_before", len(prior))
	} else {
		conc := any(workers)
		if gate != nil {
			conc = fmt.Sprintf("auto (%d now, at most %d)", gate.Limit(), workers)
		}
		r.log.Info("starting", "action", o.Action, "rows", r.scan.Rows, "report", r.reportPath, "rate", o.Rate, "start_rate", writes.Rate(), "max_rate", o.MaxRate, "concurrency", conc)
	}

	in, closeIn, err := r.openReader()
	if err != nil {
		return err
	}
	stats, runErr := r.runJob(ctx, job, in, refusal)
	closeIn()
	r.endTimeline(tl, runErr)
	if r.bar {
		fmt.Fprintln(r.env.Stderr)
	}

	// Settle the report: rows not reached get not_attempted, then one line
	// per row.
	if err := r.fillNotAttempted(sink, runErr); err != nil {
		return settleFailed(runErr, err)
	}
	if err := rw.Close(); err != nil {
		return settleFailed(runErr, fmt.Errorf("close report: %w", err))
	}
	final, err := r.compactReport(r.scan.Rows)
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
	if err := journal.End(status, reason); err != nil {
		return settleFailed(runErr, fmt.Errorf("write checkpoint: %w", err))
	}
	if err := journal.Sync(); err != nil {
		return settleFailed(runErr, fmt.Errorf("sync checkpoint: %w", err))
	}
	if err := r.finishS3(ctx); err != nil {
		return settleFailed(runErr, err)
	}
	r.endMetrics(stats, final.Counts)
	if err := r.summarize(stats, final, status); err != nil {
		return settleFailed(runErr, err)
	}
	if runErr != nil {
		if errors.Is(runErr, batch.ErrInterrupted) {
			fmt.Fprintf(r.env.Stderr, "cogsweep: interrupted; run the same command again to resume (report %s)\n", r.reportPath)
		}
		return runErr
	}
	if r.safety.predicted != nil {
		return r.safety.predicted // a dry run: the real run would be refused
	}
	problems := final.Counts[report.Invalid] + final.Counts[report.Failed] + final.Counts[report.NotAttempted]
	if problems > 0 {
		return &RowProblems{N: problems}
	}
	return nil
}

// prepareInput spools stdin, settles the format and makes the pre-pass.
func (r *run) prepareInput(ctx context.Context) error {
	o := r.o
	if o.Action == batch.Rollback {
		return r.prepareRollback()
	}
	if o.Select != "" && o.Input == "" {
		return r.presetSelection() // the query waits for the run's paths (selectUsers)
	}
	r.inputPath = o.Input
	if o.Input == "-" {
		sp, err := input.SpoolReader(ctx, r.env.Stdin, "", o.MaxStdinSize)
		switch {
		case ctx.Err() != nil:
			return batch.ErrInterrupted
		case err != nil:
			return usage(fmt.Errorf("read stdin: %w", err))
		}
		r.spool = sp
	}
	if o.Format != "" {
		r.format = input.Format(o.Format)
	} else if f, ok := input.FormatFromPath(o.Input); ok {
		r.format = f
	} else {
		return usage(fmt.Errorf("cannot tell the format of %s from its extension: add --format csv or --format ndjson", o.Input))
	}
	if o.Action == batch.DeleteAttributes {
		attrs, err := ParseAttributes(o.Attributes)
		if err != nil {
			return usage(err)
		}
		r.attrs = attrs
	}
	f, err := r.openInput()
	if err != nil {
		return usage(fmt.Errorf("open input: %w", err))
	}
	defer f.Close()
	sum, err := input.Scan(ctx, f, r.format, r.countShard(func(row input.Row) string { return target.Key(row, o.UserPoolID) }))
	if err != nil {
		if ctx.Err() != nil {
			// Nothing was called yet: the same command starts afresh.
			return fmt.Errorf("read input %s: %w", r.displayInput(), batch.ErrInterrupted)
		}
		if errors.Is(err, input.ErrNoColumns) {
			return usage(fmt.Errorf("input %s: %w", r.displayInput(), err))
		}
		return usage(fmt.Errorf("read input %s: %w", r.displayInput(), err))
	}
	r.scan = sum
	return nil
}

func (r *run) openReader() (input.Reader, func(), error) {
	if r.o.Action == batch.Rollback {
		return r.openReportRows()
	}
	f, err := r.openInput()
	if err != nil {
		return nil, nil, fmt.Errorf("open input: %w", err)
	}
	rd, err := input.Open(f, r.format)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read input: %w", err)
	}
	return rd, func() { f.Close() }, nil
}

func (r *run) displayInput() string {
	if r.o.Input == "-" {
		return "stdin"
	}
	return r.o.Input
}

// checkColumns refuses, before any call, an input that cannot name a user
// for this action.
func (r *run) checkColumns() error {
	c, a := r.scan.Columns, r.o.Action
	admin := c.Username || c.Sub || c.Email
	switch {
	case r.scan.Rows == 0:
	case a == batch.SelfDelete && !c.AccessToken:
		return usage(errors.New("input has no access_token column: self-delete needs each user's access token"))
	case a.TokenCapable() && !c.AccessToken && !admin:
		return usage(errors.New("input has no username, sub, email or access_token column"))
	case !a.TokenCapable() && !admin:
		return usage(errors.New("input has no username column (username, Username or cognito:username; or sub, email)"))
	}
	if r.scan.FirstQuoteErrLine > 0 && a.Destructive() {
		return usage(fmt.Errorf("input line %d: a quoted field is not closed properly, so the lines after it may have been read as usernames; fix the file (an irreversible %s refuses it)",
			r.scan.FirstQuoteErrLine, a))
	}
	return nil
}

// region is --region, else the SDK's (AWS_REGION), else the pool id's
// prefix.
func (r *run) region() (string, error) {
	if r.o.Region != "" {
		return r.o.Region, nil
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := r.env.Getenv(k); v != "" {
			return v, nil
		}
	}
	if p := input.PoolRegion(r.o.UserPoolID); p != "" {
		return p, nil
	}
	if r.o.Profile != "" {
		return "", nil // the profile may name one; LoadAWSConfig checks
	}
	return "", errors.New("no region: give --region, set AWS_REGION, or give --user-pool-id (its prefix is the region)")
}

// checkPoolRegion refuses a --user-pool-id of another region than the
// run's: every row that relies on it would be invalid and its pre-flight
// could not find it, so it is a usage error before any call. Rows' own
// user_pool_id are judged row by row (batch).
func (r *run) checkPoolRegion(region string) error {
	pool := r.o.UserPoolID
	if pool == "" || region == "" || (!r.hasAdminRows() && r.o.Select == "") || input.ValidPoolID(pool) != nil {
		return nil
	}
	if p := input.PoolRegion(pool); p != region {
		return fmt.Errorf("--user-pool-id %s is a pool of %s, but the run's region is %s (from %s): give --region %s, or the pool of %s",
			pool, p, region, r.regionSource(), p, region)
	}
	return nil
}

// regionSource names where region() found the run's region.
func (r *run) regionSource() string {
	if r.o.Region != "" {
		return "--region"
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r.env.Getenv(k) != "" {
			return k
		}
	}
	return "the pool id"
}

// computeFingerprint covers everything that changes what the run does.
func (r *run) computeFingerprint(region string) string {
	o := r.o
	h := sha256.New()
	fmt.Fprintf(h, "input=%s\naction=%s\npool=%s\nregion=%s\ndry=%t\nattrs=%s\nmax_users=%d\nmax_fraction=%g\n",
		r.scan.SHA256, o.Action, o.UserPoolID, region, o.DryRun, strings.Join(r.attrs, ","), o.MaxUsers, o.MaxFraction)
	r.fingerprintSafety(h)
	return hex.EncodeToString(h.Sum(nil))
}

// openCheckpoint locks the checkpoint and decides between a fresh run and a
// resume. A finished run of another input is archived; an unfinished one is
// refused unless --restart, which archives whatever is there.
func (r *run) openCheckpoint() (*checkpoint.Journal, bool, error) {
	var (
		j   *checkpoint.Journal
		err error
	)
	if r.o.Restart {
		var archived []string
		j, archived, err = checkpoint.Restart(r.checkpointPath, r.heldFiles(), r.archiveAlso()...)
		if len(archived) > 0 {
			r.log.Info("--restart: archived the previous run", "files", archived)
		}
	} else {
		j, err = checkpoint.Open(r.checkpointPath)
	}
	if err != nil {
		switch {
		case errors.Is(err, checkpoint.ErrLocked):
			return nil, false, usage(fmt.Errorf("%w: wait for it to end, or stop it", err))
		case errors.Is(err, checkpoint.ErrCorrupt), errors.Is(err, checkpoint.ErrVersion):
			return nil, false, usage(fmt.Errorf("%w: add --restart to archive it and start over", err))
		case errors.Is(err, syscall.ELOOP):
			return nil, false, usage(err)
		}
		return nil, false, fmt.Errorf("open checkpoint: %w", err)
	}
	st := j.State()
	if st.HasHeader && st.Header.Fingerprint == r.fingerprint {
		r.noteDamage("checkpoint", r.checkpointPath, st.Corrupt, st.Torn,
			"skipped (a row whose intent was there reads the user again before its call)")
		return j, true, nil
	}
	if st.Unfinished() {
		j.Close()
		return nil, false, usage(fmt.Errorf("checkpoint %s belongs to an unfinished run of another input or options (%s of %s, %s): run that command again to finish it, or add --restart to archive it and start over",
			r.checkpointPath, st.Header.Action, st.Header.Input, lastStatus(st)))
	}
	if st.HasHeader || fileNonEmpty(r.reportPath) {
		archived, err := j.Reset(r.heldFiles(), r.archiveAlso()...)
		if err != nil {
			j.Close()
			return nil, false, fmt.Errorf("archive the previous run: %w", err)
		}
		r.log.Info("archived the previous, finished run: its input or options differ", "files", archived)
	}
	// admit writes the header once the guards are judged: it holds their
	// verdict (safety.go).
	r.safety.header = checkpoint.Header{
		Kind: checkpoint.HeaderKind, V: checkpoint.Version,
		Fingerprint: r.fingerprint, Action: string(r.o.Action), Pool: r.o.UserPoolID, Input: r.displayInput(),
		Rows: r.scan.Rows, DryRun: r.o.DryRun, CreatedAt: time.Now().UTC(),
	}
	return j, false, nil
}

func lastStatus(st checkpoint.State) string {
	switch {
	case st.Runs == 0:
		return "never started"
	case !st.Ended:
		return "killed"
	}
	return st.LastStatus
}

// noteDamage says once per file what a resume skipped in it: corrupt lines
// are a warning with their numbers (a disk, a person or another program
// wrote there); a torn last line alone is what a kill mid-append leaves, so
// only a debug note.
func (r *run) noteDamage(what, path string, bad fsutil.BadLines, torn bool, effect string) {
	if bad.Count > 0 {
		r.log.Warn(fmt.Sprintf("the %s has corrupt lines; they were %s", what, effect),
			"file", path, "corrupt_lines", bad.Count, "line_numbers", bad.String())
		return
	}
	if torn {
		r.log.Debug(fmt.Sprintf("the %s ended in a torn line (a kill mid-append); it was dropped", what), "file", path)
	}
}

// refuseSymlinks refuses, before any call, a symlink where the run writes
// its report, checkpoint or backup: the opens refuse it too
// (O_NOFOLLOW), but only after the run has begun. Remote paths have local
// copies that cogsweep itself creates.
func (r *run) refuseSymlinks() error {
	files := []struct{ what, path string }{
		{"report", r.reportPath},
		{"checkpoint", r.checkpointPath},
		{"timeline", timeline.PathFor(r.checkpointPath)},
	}
	if r.o.Action == batch.Delete && !r.o.DryRun { // the runs that open --backup (identity.go)
		files = append(files, struct{ what, path string }{"backup", r.o.Backup})
	}
	for _, f := range files {
		if f.path == "" || strings.Contains(f.path, "://") {
			continue
		}
		if err := fsutil.RefuseSymlink(f.what, f.path); err != nil {
			return usage(err)
		}
	}
	return nil
}

// usageIfSymlink makes a symlink refused at an open a usage error (exit 2):
// the operator has to remove the link, and running again changes nothing.
func usageIfSymlink(err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return usage(err)
	}
	return err
}

func fileNonEmpty(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

// confirm checks --confirm-pool-id for irreversible admin actions. It
// returns the confirmed pools (nil when the action needs none).
func (r *run) confirm() (map[string]bool, error) {
	o := r.o
	if !o.Action.Destructive() || o.DryRun || !r.hasAdminRows() {
		return nil, nil
	}
	confirmed := map[string]bool{}
	for _, p := range o.ConfirmPools {
		confirmed[p] = true
	}
	if o.UserPoolID == "" || confirmed[o.UserPoolID] {
		return confirmed, nil
	}
	if r.stdinIsTerminal() && o.Input != "-" {
		fmt.Fprintf(r.env.Stderr, "%s is irreversible. Type the pool id (%s) to confirm: ", o.Action, o.UserPoolID)
		line, _ := readLine(r.env.Stdin)
		if strings.TrimSpace(line) == o.UserPoolID {
			confirmed[o.UserPoolID] = true
			return confirmed, nil
		}
	}
	return nil, &GuardError{Guard: "confirmation", Err: fmt.Errorf("%s cannot be undone: add --confirm-pool-id %s (or run it at a terminal and type the pool id)", o.Action, o.UserPoolID)}
}

func (r *run) hasAdminRows() bool {
	c := r.scan.Columns
	return c.Username || c.Sub || c.Email
}

func (r *run) stdinIsTerminal() bool {
	if r.env.StdinIsTerminal != nil {
		return *r.env.StdinIsTerminal
	}
	f, ok := r.env.Stdin.(*os.File)
	return ok && isTerminal(f)
}

func readLine(rd io.Reader) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for len(b) < 256 {
		n, err := rd.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			b = append(b, one[0])
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}

func (r *run) connect(ctx context.Context, region string) (Backend, error) {
	if r.env.Backend != nil {
		return r.env.Backend, nil
	}
	cfg, err := cognito.LoadAWSConfig(ctx, cognito.Config{
		Region: region, Profile: r.o.Profile, MaxConns: 64, Log: r.log,
	})
	if err != nil {
		return nil, &batch.FatalError{Code: "ConfigError", Err: err}
	}
	r.acct.cfg = &cfg
	return cognito.New(cfg, r.o.EndpointURL), nil
}

func (r *run) policy() retry.Policy {
	p := retry.DefaultPolicy()
	p.MaxAttempts = r.o.MaxAttempts
	return p
}

// limiters builds the write limiter and the number of workers. Auto
// starts at the free share the pre-flight planned (account.go), or at
// half of --max-rate when it planned nothing.
func (r *run) limiters() (*pace.Limiter, int) {
	o := r.o
	if o.Rate == "auto" {
		cfg := pace.AutoConfig(o.MaxRate)
		if p := r.acct.plan; p != nil && o.MaxRate > 0 {
			cfg.Start = min(p.free/o.MaxRate, 1)
			cfg.Prior = p.prior / o.MaxRate // 0 when production is unknown
		}
		return pace.NewLimiter(pace.New(cfg), o.Burst), o.Concurrency
	}
	return pace.NewFixed(r.fixedRate(), o.Burst), o.Concurrency
}

// fixedRate is --rate when it is a number (Validate checked it).
func (r *run) fixedRate() float64 {
	rate, _ := strconv.ParseFloat(r.o.Rate, 64)
	return rate
}

// gateOrNil keeps a nil *pace.Gate from becoming a non-nil interface.
func gateOrNil(g *pace.Gate) batch.Gate {
	if g == nil {
		return nil
	}
	return g
}

// autoConcurrency sizes the calls in flight from the write limiter's rate
// and the latency it observes plus the limiter's spread (in flight = rate x
// that time, with headroom), so
// a slow endpoint still reaches the rate and a fast one holds no idle
// connections. It resizes gate every second until ctx ends.
func autoConcurrency(ctx context.Context, gate *pace.Gate, lim *pace.Limiter) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lat := lim.Latency()
			if lat <= 0 {
				lat = initialLatency
			}
			gate.SetLimit(pace.Concurrency(lim.Rate(), lat+lim.SpreadMax(), minAutoConcurrency, maxAutoConcurrency))
		}
	}
}

// Bounds of the automatic concurrency. Until latency is observed it is
// sized for 200 ms, a slow Cognito answer.
const (
	initialLatency     = 200 * time.Millisecond
	minAutoConcurrency = 2
	maxAutoConcurrency = 64
)

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
// a run that ends by itself leaves one line per row.
func (r *run) fillNotAttempted(sink *trackingSink, runErr error) error {
	if sink.have.Count() >= r.rows() {
		return nil
	}
	in, closeIn, err := r.openReader()
	if err != nil {
		return err
	}
	defer closeIn()
	msg := "not reached"
	var fe *batch.FatalError
	switch {
	case errors.As(runErr, &fe):
		msg = "not reached: the run stopped (" + fe.Code + ")"
	case errors.Is(runErr, batch.ErrInterrupted):
		msg = "not reached: the run was interrupted"
	}
	if m := refusedMessage(runErr); m != "" {
		msg = m
	}
	now := time.Now().UTC()
	for {
		row, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if sink.have.Has(row.N) || !r.shard.Owns(row) {
			continue
		}
		rec := target.NotReached(row, r.o.UserPoolID)
		rec.Outcome, rec.Action, rec.Message, rec.At = report.NotAttempted, string(r.o.Action), msg, now
		if err := sink.Write(&rec); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return sink.Sync()
}

// progress returns the progress reporter and how often to call it: a bar
// redrawn every second when stderr is a terminal, else a log line every 10 s
// (what a CronJob's log collector wants).
func (r *run) progress(total int) (func(batch.Stats), time.Duration) {
	mode := r.o.Progress
	if mode == "auto" {
		mode = "log"
		if f, ok := r.env.Stderr.(*os.File); ok && isTerminal(f) {
			mode = "bar"
		}
	}
	if mode == "off" {
		return nil, 0
	}
	line := func(s batch.Stats) (rate float64, eta string) {
		if s.Elapsed > 0 {
			rate = float64(s.Rows) / s.Elapsed.Seconds()
		}
		eta = "unknown"
		if rate > 0 && total > s.Rows {
			eta = (time.Duration(float64(total-s.Rows)/rate) * time.Second).Round(time.Second).String()
		}
		return rate, eta
	}
	var thr throttleWindow // progress calls come from one goroutine
	if mode == "bar" {
		r.bar = true
		return func(s batch.Stats) {
			rate, eta := line(s)
			perMin := thr.perMinute(s.Elapsed, s.Throttles)
			frac := 1.0
			if total > 0 {
				frac = min(1, float64(s.Rows)/float64(total))
			}
			const width = 30
			n := int(frac * width)
			fmt.Fprintf(r.env.Stderr, "\r[%s%s] %3.0f%% %d/%d  %.1f rows/s  limit %.1f/s  %d throttled (%.1f/min)  ETA %s ",
				strings.Repeat("#", n), strings.Repeat("-", width-n), frac*100, s.Rows, total, rate, s.WriteRate, s.Throttles, perMin, eta)
		}, time.Second
	}
	return func(s batch.Stats) {
		rate, eta := line(s)
		r.log.Info("progress", "done", s.Rows, "total", total, "rows_per_s", round1(rate),
			"limit_per_s", round1(s.WriteRate), "throttles", s.Throttles,
			"throttles_per_min", round1(thr.perMinute(s.Elapsed, s.Throttles)), "retries", s.Retries, "eta", eta)
	}, 10 * time.Second
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
