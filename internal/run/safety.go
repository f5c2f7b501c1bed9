package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// describedPools caches DescribeUserPool by pool id, once per run; exists
// is false for a pool that does not exist. The pre-flight, the guards, the
// access check and the protect lists fill it; the pipeline starts from it.
type describedPools map[string]describedPool

func (c describedPools) remember(id string, p cognito.Pool, exists bool) {
	c[id] = describedPool{pool: p, exists: exists}
}

type describedPool struct {
	pool   cognito.Pool
	exists bool
}

// maxPools bounds the distinct pools one input may name (memory of the
// per-pool guards).
const maxPools = 1000

// GuardVerdict is what the guards decided at a run's first start. It is
// stored in the checkpoint header: a resume reuses it rather than judge
// --max-fraction against a pool its own deletes have shrunk.
type GuardVerdict struct {
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

// prepareSafety does what must precede the fingerprint: it reads
// --protect-file (its content is part of the fingerprint) and makes a
// --select run's manifest, the run's input.
func (r *plan) prepareSafety(ctx context.Context, store Storage) error {
	r.protect = newProtectSet()
	r.pools = describedPools{}
	if f := r.o.ProtectFile; f != "" {
		sum, n, err := loadProtectFile(f, r.protect)
		if err != nil {
			return usage(err)
		}
		r.protectFileSHA = sum
		r.log.Info("protect file read", "file", f, "users", n)
	}
	return r.selectUsers(ctx, store)
}

// fingerprintSafety adds the safety options that change what is done. It
// writes nothing for options not used, so other runs keep their
// fingerprint.
func (r *plan) fingerprintSafety(w io.Writer) {
	o := r.o
	if g := o.protectGroups(); len(g) > 0 {
		fmt.Fprintf(w, "protect_groups=%q\n", g)
	}
	if r.protectFileSHA != "" {
		fmt.Fprintf(w, "protect_file=%s\n", r.protectFileSHA)
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
		set("only_disabled_for", FormatDuration(o.OnlyDisabledFor))
	}
	set("protect_groups", strings.Join(o.protectGroups(), ","))
	set("protect_file", o.ProtectFile)
	set("select", o.Select)
	set("created_before", FormatDuration(o.CreatedBefore))
	set("modified_before", FormatDuration(o.ModifiedBefore))
	if len(m) == 0 {
		return nil
	}
	return m
}

// judge evaluates the guards that are stored: --max-users against the rows
// of the whole input (not a shard), and for delete --max-fraction against
// each pool's EstimatedNumberOfUsers, per pool the input names. A refusal
// is in the verdict; the error is a fault that stopped the judging.
func (r *plan) judge(ctx context.Context, a *admission) (*GuardVerdict, error) {
	o := r.o
	v := &GuardVerdict{Rows: r.scan.Rows, MaxUsers: o.MaxUsers, At: r.now().UTC()}
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
	counts, err := r.tally.poolCounts()
	if err != nil {
		return nil, err
	}
	for _, pool := range sortedKeys(counts) {
		p, exists, err := r.describe(ctx, a.users, pool)
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
func (r *plan) describe(ctx context.Context, c Backend, pool string) (cognito.Pool, bool, error) {
	if d, ok := r.pools[pool]; ok {
		return d.pool, d.exists, nil
	}
	var p cognito.Pool
	res := r.pacer.Call(ctx, pacer.Control, func(ctx context.Context) error {
		var err error
		p, err = c.DescribePool(ctx, pool)
		return err
	})
	switch {
	case ctx.Err() != nil:
		return p, false, r.stopped(ctx, "DescribeUserPool "+pool)
	case res.Code == "ResourceNotFoundException":
		r.pools.remember(pool, p, false)
		return p, false, nil
	case res.Err != nil:
		return p, false, &retry.FatalError{Code: res.Code, Err: fmt.Errorf("DescribeUserPool %s (the guards need each pool's size): %w", pool, res.Err)}
	}
	r.pools.remember(pool, p, true)
	return p, true, nil
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
func (r *plan) protectedFunc() func(pool, username string) bool {
	if r.protect == nil || r.protect.len() == 0 {
		return nil
	}
	return r.protect.has
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
