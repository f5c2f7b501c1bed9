package run

import (
	"fmt"
	"slices"

	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/target"
)

// tally is what the pre-pass learns of the rows besides input.Scan's
// summary, so that no later step reads the input again: the rows the shard
// owns (progress, the summary), the rows per pool (the guards and the
// protect groups) and the first callable row of each pool (the access
// check).
type tally struct {
	run    *run
	region string // the run's, when it is known

	owned int
	// counts is the rows of the whole input (not a shard) per pool they
	// would act on. Rows the pipeline will find invalid (a malformed pool,
	// another region, a pool --confirm-pool-id cannot confirm) are left out.
	counts       map[string]int
	tooManyPools bool
	// firsts is the first row of each pool, among the input's first
	// maxAccessScan rows, that the run would call Cognito for by username,
	// sub or email: the access check reads its user.
	firsts []candidate
	seen   int
}

// candidate is a row the access check may read, and its pool.
type candidate struct {
	row  input.Row
	pool string
}

// newTally starts a pre-pass once the run's region is settled (a
// rollback's comes from its report).
func newTally(r *run) tally {
	region, _ := r.region()
	return tally{run: r, region: region, counts: map[string]int{}}
}

// key wraps the pre-pass key function to observe each row on the way.
func (t *tally) key(key func(input.Row) string) func(input.Row) string {
	return func(row input.Row) string {
		t.observe(row)
		return key(row)
	}
}

// observe takes one row of the pre-pass (the rows in the order the run
// reads them, rejected ones included).
func (t *tally) observe(row input.Row) {
	r := t.run
	if r.shard.Owns(row) {
		t.owned++
	}
	t.seen++
	t.countPool(row)
	if t.seen <= maxAccessScan && (!r.shard.Sharded() || r.shard.Owns(row)) {
		if c, ok := t.callable(row); ok && !slices.ContainsFunc(t.firsts, func(f candidate) bool { return f.pool == c.pool }) {
			t.firsts = append(t.firsts, c)
		}
	}
}

// confirmable reports whether pool can be confirmed for an action that
// needs confirmation: --confirm-pool-id's pools and --user-pool-id (by the
// flag or at the prompt). Other pools' rows end invalid, unconfirmed.
func (t *tally) confirmable(pool string) bool {
	o := t.run.o
	if !o.Action.Destructive() || o.DryRun {
		return true
	}
	return pool == o.UserPoolID || slices.Contains(o.ConfirmPools, pool)
}

func (t *tally) countPool(row input.Row) {
	o := t.run.o
	// Email rows are not counted: which user they name needs a call.
	if by := target.Of(row); row.Err != "" || (by != target.ByUsername && by != target.BySub) {
		return
	}
	pool, refused := target.Pool(row, target.Rules{Pool: o.UserPoolID, Region: t.region})
	if refused != nil || !t.confirmable(pool) {
		return
	}
	if _, seen := t.counts[pool]; !seen && len(t.counts) >= maxPools {
		t.tooManyPools = true
		return
	}
	t.counts[pool]++
}

// callable is row and its pool when the run would call Cognito for it by
// username, sub or email (token rows are read with their token).
func (t *tally) callable(row input.Row) (candidate, bool) {
	tg, refused := target.Resolve(row, target.Rules{Admin: true, Token: true, Pool: t.run.o.UserPoolID, Region: t.region})
	if refused != nil || tg.By == target.ByToken {
		return candidate{}, false
	}
	return candidate{row: row, pool: tg.Pool}, true
}

// poolCounts is the rows per pool, refused past maxPools pools (the
// memory of the per-pool guards).
func (t *tally) poolCounts() (map[string]int, error) {
	if t.tooManyPools {
		return nil, fmt.Errorf("the input names more than %d user pools; split it", maxPools)
	}
	return t.counts, nil
}
