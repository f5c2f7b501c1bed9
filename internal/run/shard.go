package run

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/cogsweep/cogsweep/internal/input"
)

// Shard is the slice of a sharded job one process runs: the rows whose key
// hashes to Index among Count shards. The zero Shard is an unsharded run.
type Shard struct {
	Index, Count int
}

// Sharded reports whether the run is one shard of a job (--shard or
// --shards was given, even with N = 1).
func (s Shard) Sharded() bool { return s.Count > 0 }

// String is "I/N", or "" for an unsharded run.
func (s Shard) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Tag goes into the shard's file names: "shard-I-of-N", "" unsharded.
func (s Shard) Tag() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count)
}

// Owns reports whether row belongs to this shard. The key is the row's input
// identity (username, else sub, else email, else its token's fingerprint), so
// repeats of a user land in one shard and duplicate detection still works.
// Rows with none of them (a record the parser rejected) are spread by row
// number. input.ShardOf is stable across machines and versions: every pod
// agrees on who owns a row.
func (s Shard) Owns(row input.Row) bool {
	if s.Count <= 1 {
		return true
	}
	key := row.ID()
	if key == "" {
		key = "row:" + strconv.Itoa(row.N)
	}
	return input.ShardOf(key, s.Count) == s.Index
}

// Fingerprint derives a shard's fingerprint from the job's: each shard's
// checkpoint belongs to its shard only. An unsharded run keeps the job's.
func (s Shard) Fingerprint(job string) string {
	if !s.Sharded() {
		return job
	}
	sum := sha256.Sum256([]byte(job + "\nshard=" + s.String() + "\n"))
	return hex.EncodeToString(sum[:])
}

// perShard turns the job-wide rates into this shard's share: the quotas are
// account-wide, so N pods each take 1/N.
func (o *Options) perShard(n int) {
	if n <= 1 {
		return
	}
	if o.Rate != "auto" {
		if r, err := strconv.ParseFloat(o.Rate, 64); err == nil {
			o.Rate = strconv.FormatFloat(r/float64(n), 'g', -1, 64)
		}
	}
	o.MaxRate /= float64(n)
	o.ReadRate /= float64(n)
	o.CreateRate /= float64(n)
	o.ListRate /= float64(n)
}

// Shardable refuses what cannot be sharded: --select would have each pod
// query the pool at its own moment, and pods that saw different users
// would number rows differently, so the shards would not partition one
// input. Select once (a --dry-run writes the manifest) and shard that file.
func (o *Options) Shardable(s Shard) error {
	if s.Sharded() && o.Select != "" {
		return errors.New("--select cannot be sharded: each pod would query the pool at another moment and see other users; run the selection once (--dry-run writes its manifest beside the report) and give that file to the shards as --input")
	}
	return nil
}

// tagged gives an explicit --report or --checkpoint path the shard's tag
// and, for a dry run, the plan's: each shard and each plan has its own files.
func (r *run) tagged(path string) string {
	path = withTag(path, r.shard.Tag())
	if r.o.DryRun {
		path = withTag(path, "plan")
	}
	return path
}

// include is the batch.Job's row filter: nil when unsharded.
func (r *run) include() func(input.Row) bool {
	if !r.shard.Sharded() {
		return nil
	}
	return r.shard.Owns
}
