package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// safetyState is what the safety features keep during one run.
type safetyState struct {
	// header is a fresh run's checkpoint header, written by admit once the
	// guards are judged, so it can carry their verdict.
	header checkpoint.Header
	// pools caches DescribeUserPool by pool id; exists is false for a pool
	// that does not exist.
	pools map[string]describedPool
	// counts is the rows per pool the input names (poolCounts).
	counts map[string]int

	protect        *protectSet
	protectFileSHA string
	sel            *selection
	list           *rate.Limiter
	// predicted is the guard refusal a dry run forecasts: its exit code.
	predicted error
}

type describedPool struct {
	pool   cognito.Pool
	exists bool
}

// maxPools bounds the distinct pools one input may name (memory of the
// per-pool guards).
const maxPools = 1000

// guardVerdict is what the guards decided at a run's first start. It is
// stored in the checkpoint header: a resume reuses it rather than judge
// --max-fraction against a pool its own deletes have shrunk.
type guardVerdict struct {
	Rows        int           `json:"rows"`
	MaxUsers    int           `json:"max_users,omitempty"`
	MaxFraction float64       `json:"max_fraction,omitempty"`
	Pools       []poolVerdict `json:"pools,omitempty"`
	Refused     string        `json:"refused,omitempty"` // the guard that refused
	Reason      string        `json:"reason,omitempty"`
	At          time.Time     `json:"at"`
}

type poolVerdict struct {
	Pool  string `json:"pool"`
	Rows  int    `json:"rows"`
	Users int    `json:"users"` // EstimatedNumberOfUsers when judged
}

func (r *run) now() time.Time {
	if r.env.Now != nil {
		return r.env.Now()
	}
	return time.Now()
}

// listLimiter paces ListUsers and ListUsersInGroup: the UserList quota is
// shared with production (admin consoles, other jobs), like the others.
func (r *run) listLimiter() *rate.Limiter {
	if r.safety.list == nil {
		r.safety.list = rate.NewLimiter(rate.Limit(r.o.ListRate), 1)
	}
	return r.safety.list
}

// prepareSafety does what must precede the fingerprint: it reads
// --protect-file (its content is part of the fingerprint) and makes a
// --select run's manifest, the run's input.
func (r *run) prepareSafety(ctx context.Context, region string) error {
	r.safety.protect = newProtectSet()
	if f := r.o.ProtectFile; f != "" {
		sum, n, err := loadProtectFile(f, r.safety.protect)
		if err != nil {
			return usage(err)
		}
		r.safety.protectFileSHA = sum
		r.log.Info("protect file read", "file", f, "users", n)
	}
	return r.selectUsers(ctx, region)
}

// fingerprintSafety adds the safety options that change what is done. It
// writes nothing for options not used, so other runs keep their
// fingerprint.
func (r *run) fingerprintSafety(w io.Writer) {
	o := r.o
	if g := o.protectGroups(); len(g) > 0 {
		fmt.Fprintf(w, "protect_groups=%q\n", g)
	}
	if r.safety.protectFileSHA != "" {
		fmt.Fprintf(w, "protect_file=%s\n", r.safety.protectFileSHA)
	}
	if o.OnlyDisabledFor > 0 {
		fmt.Fprintf(w, "only_disabled_for=%d\n", int64(o.OnlyDisabledFor))
	}
	if o.Select != "" {
		fmt.Fprintf(w, "select=%q\ncreated_before=%d\nmodified_before=%d\n", o.Select, int64(o.CreatedBefore), int64(o.ModifiedBefore))
	}
}

// headerOptions are the options that change what the run does, as given,
// for the checkpoint header (status, audit).
func (r *run) headerOptions() map[string]string {
	o := r.o
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if o.MaxUsers > 0 {
		set("max_users", strconv.Itoa(o.MaxUsers))
	}
	if o.Action == batch.Delete {
		set("max_fraction", strconv.FormatFloat(o.MaxFraction, 'g', -1, 64))
		set("only_disabled_for", durationFlag{&o.OnlyDisabledFor}.String())
	}
	set("protect_groups", strings.Join(o.protectGroups(), ","))
	set("protect_file", o.ProtectFile)
	set("select", o.Select)
	set("created_before", durationFlag{&o.CreatedBefore}.String())
	set("modified_before", durationFlag{&o.ModifiedBefore}.String())
	if len(m) == 0 {
		return nil
	}
	return m
}

// admit decides, before the first mutating call, whether the run may go
// ahead. Confirmation and the pool check happen at every start. The guards
// (--max-users, --max-fraction) are judged once, at the run's first start,
// and their verdict goes into the checkpoint header. The protect groups are
// listed at every start.
//
// A non-nil refusal ends the run before any row is tried: every row not
// settled is recorded not_attempted and the exit code follows refusal
// (runJob). A dry run goes on through a guard's refusal to write the whole
// plan. pending is the number of rows not settled by earlier runs: a
// finished run with none makes no call. err is a failure to record the
// decision in the checkpoint.
func (r *run) admit(ctx context.Context, j *checkpoint.Journal, resume bool, pending int, region string) (confirmed map[string]bool, users Backend, refusal error, err error) {
	st := j.State()
	var stored *guardVerdict
	if resume && len(st.Header.Guards) > 0 {
		stored = new(guardVerdict)
		if err := json.Unmarshal(st.Header.Guards, stored); err != nil {
			return nil, nil, nil, fmt.Errorf("checkpoint %s: guards: %w", r.checkpointPath, err)
		}
	}
	// writeHeader writes a fresh run's header, once: with the verdict when
	// the guards were judged, without one when the run stopped before.
	writeHeader := func(v *guardVerdict) error {
		if resume {
			return nil
		}
		h := r.safety.header
		h.Options = r.headerOptions()
		if v != nil {
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("write checkpoint: guards: %w", err)
			}
			h.Guards = raw
		}
		if err := j.WriteHeader(h); err != nil {
			return fmt.Errorf("write checkpoint: %w", err)
		}
		return nil
	}

	// One deadline for the pre-flight's calls (preflight.go); listing the
	// protect groups is not a check and takes as long as they are big.
	pctx, cancel := r.preflightContext(ctx)
	defer cancel()
	confirmed, refusal = r.confirm()
	if refusal == nil && (!resume || pending > 0) {
		if users, refusal = r.connect(pctx, region); refusal == nil {
			refusal = r.preflight(pctx, users, region)
		}
		if refusal == nil {
			// Once the credentials and the pool are known good (account.go).
			refusal = r.readAccount(pctx, pending)
		}
	}
	if refusal != nil {
		return nil, nil, refusal, writeHeader(nil)
	}

	v := stored
	if v == nil && users != nil {
		if v, refusal = r.judge(pctx, users, region, confirmed); refusal != nil {
			return nil, nil, refusal, writeHeader(nil)
		}
		if err := writeHeader(v); err != nil {
			return nil, nil, nil, err
		}
		if resume {
			if err := r.storeVerdict(j, st, v); err != nil {
				return nil, nil, nil, err
			}
		}
	} else if err := writeHeader(nil); err != nil {
		return nil, nil, nil, err
	}
	if v != nil && v.Refused != "" {
		refusal = r.guardRefusal(v.Refused, v.Reason)
		if !r.o.DryRun {
			return confirmed, users, refusal, nil // listing protect groups is moot
		}
	}
	if users != nil && refusal == nil {
		// The pre-flight's read of the first row's user, once the guards
		// let the run go (identity.go).
		if refusal = r.checkAccess(pctx, users, region); refusal != nil {
			return confirmed, users, refusal, nil
		}
	}
	if users != nil {
		if err := r.fetchProtected(ctx, users, region, confirmed); err != nil && refusal == nil {
			refusal = err
		}
	}
	return confirmed, users, refusal, nil
}

// storeVerdict records guards judged on a resume: an earlier start stopped
// before judging them (no confirmation, a missing pool). The header can be
// written only once, so while no mutating call was ever made (no intent)
// the checkpoint is archived and begun again with the verdict in its
// header. Otherwise (a checkpoint of an older cogsweep) the guards are
// judged again at each start.
func (r *run) storeVerdict(j *checkpoint.Journal, st checkpoint.State, v *guardVerdict) error {
	if st.Intents > 0 {
		r.log.Warn("the checkpoint holds no verdict of the guards (an older cogsweep wrote it): they are judged again at each start", "checkpoint", r.checkpointPath)
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write checkpoint: guards: %w", err)
	}
	if _, err := j.Reset(nil); err != nil {
		return fmt.Errorf("rewrite checkpoint with the guards' verdict: %w", err)
	}
	h := st.Header
	h.Guards = raw
	if err := j.WriteHeader(h); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// judge evaluates the guards that are stored: --max-users against the rows
// of the whole input (not a shard), and for delete --max-fraction against
// each pool's EstimatedNumberOfUsers, per pool the input names. A refusal
// is in the verdict; the error is a fault that stopped the judging.
func (r *run) judge(ctx context.Context, c Backend, region string, confirmed map[string]bool) (*guardVerdict, error) {
	o := r.o
	v := &guardVerdict{Rows: r.scan.Rows, MaxUsers: o.MaxUsers, At: r.now().UTC()}
	if o.MaxUsers > 0 && v.Rows > o.MaxUsers {
		v.Refused = "--max-users"
		v.Reason = fmt.Sprintf("the input has %s rows, more than --max-users %d: check the input, or raise --max-users to at least %d%s",
			thousands(v.Rows), o.MaxUsers, v.Rows, r.restartHint())
		return v, nil
	}
	if o.Action != batch.Delete || o.MaxFraction >= 1 || !r.hasAdminRows() {
		return v, nil
	}
	v.MaxFraction = o.MaxFraction
	counts, err := r.poolCounts(region, confirmed)
	if err != nil {
		return nil, err
	}
	for _, pool := range sortedKeys(counts) {
		p, exists, err := r.describe(ctx, c, pool)
		if err != nil {
			return nil, err
		}
		if !exists || p.EstimatedUsers <= 0 {
			continue // its rows fail, or find no one, on their own
		}
		n := counts[pool]
		v.Pools = append(v.Pools, poolVerdict{Pool: pool, Rows: n, Users: p.EstimatedUsers})
		frac := float64(n) / float64(p.EstimatedUsers)
		if frac > o.MaxFraction && v.Refused == "" {
			need := math.Min(1, math.Ceil(frac*100-1e-9)/100) // 21/100 asks for 0.21, not 0.22
			v.Refused = "--max-fraction"
			v.Reason = fmt.Sprintf("the input has %s rows for pool %s, %.1f%% of its about %s users, more than --max-fraction %g: check the input, or give --max-fraction %g (1 turns the guard off)%s",
				thousands(n), pool, frac*100, thousands(p.EstimatedUsers), o.MaxFraction, need, r.restartHint())
		}
	}
	return v, nil
}

// restartHint tells how to change options after a refusal: the refused run
// stays unfinished in its checkpoint, so a changed command needs --restart.
// A dry run's files are its own; it needs no hint.
func (r *run) restartHint() string {
	if r.o.DryRun {
		return ""
	}
	return "; the refused run is kept as unfinished, so add --restart when you change the command"
}

func (r *run) guardRefusal(guard, reason string) *GuardError {
	return &GuardError{Guard: guard, Err: errors.New(reason), Predicted: r.o.DryRun}
}

// describe returns pool's DescribeUserPool, once per run; exists is false
// for a pool that does not exist.
func (r *run) describe(ctx context.Context, c Backend, pool string) (cognito.Pool, bool, error) {
	if d, ok := r.safety.pools[pool]; ok {
		return d.pool, d.exists, nil
	}
	var p cognito.Pool
	res := retry.Do(ctx, retry.Loop{Policy: r.policy(), Kind: retry.IAM, Timeout: r.o.CallTimeout}, func(ctx context.Context) error {
		var err error
		p, err = c.DescribePool(ctx, pool)
		return err
	})
	switch {
	case ctx.Err() != nil:
		return p, false, r.stopped(ctx, "DescribeUserPool "+pool)
	case res.Code == "ResourceNotFoundException":
		r.rememberPool(pool, p, false)
		return p, false, nil
	case res.Err != nil:
		return p, false, &batch.FatalError{Code: res.Code, Err: fmt.Errorf("DescribeUserPool %s (the guards need each pool's size): %w", pool, res.Err)}
	}
	r.rememberPool(pool, p, true)
	return p, true, nil
}

func (r *run) rememberPool(id string, p cognito.Pool, exists bool) {
	if r.safety.pools == nil {
		r.safety.pools = map[string]describedPool{}
	}
	r.safety.pools[id] = describedPool{pool: p, exists: exists}
}

// poolCounts counts the rows of the whole input per pool they would act on,
// in one streaming pass: the per-pool guards and the protect groups need the
// pools. Rows the pipeline will find invalid (a malformed pool, another
// region, an unconfirmed pool) are left out.
func (r *run) poolCounts(region string, confirmed map[string]bool) (map[string]int, error) {
	if r.safety.counts != nil {
		return r.safety.counts, nil
	}
	o := r.o
	in, closeIn, err := r.openReader()
	if err != nil {
		return nil, err
	}
	defer closeIn()
	counts := map[string]int{}
	for {
		row, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		// Email rows are not counted: which user they name needs a call.
		if by := target.Of(row); row.Err != "" || (by != target.ByUsername && by != target.BySub) {
			continue
		}
		pool, refused := target.Pool(row, target.Rules{Pool: o.UserPoolID, Region: region, Confirmed: confirmed, Destructive: o.Action.Destructive()})
		if refused != nil {
			continue
		}
		if _, seen := counts[pool]; !seen && len(counts) >= maxPools {
			return nil, fmt.Errorf("the input names more than %d user pools; split it", maxPools)
		}
		counts[pool]++
	}
	r.safety.counts = counts
	return counts, nil
}

// runJob runs the job unless admit refused the run. A dry run goes through
// a guard's refusal to write the whole plan, and keeps the refusal as its
// exit (predicted).
func (r *run) runJob(ctx context.Context, job *batch.Job, in input.Reader, refusal error) (batch.Stats, error) {
	var ge *GuardError
	if refusal == nil || (r.o.DryRun && errors.As(refusal, &ge)) {
		st, err := job.Run(ctx, in)
		if err == nil && ge != nil {
			ge.Predicted = true
			r.safety.predicted = ge
		}
		return st, err
	}
	return batch.Stats{Counts: map[report.Outcome]int{}, Started: r.now()}, refusal
}

// refusedMessage is the message of rows a refused run did not reach.
func refusedMessage(runErr error) string {
	var ge *GuardError
	if errors.As(runErr, &ge) {
		return "not reached: refused by " + ge.Guard
	}
	return ""
}

// protectedFunc is batch.Job.Protected, nil when nothing is protected.
func (r *run) protectedFunc() func(pool, username string) bool {
	if r.safety.protect == nil || r.safety.protect.len() == 0 {
		return nil
	}
	return r.safety.protect.has
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// thousands formats n with thousands separators: 1,204.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
