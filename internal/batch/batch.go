// Package batch is the pipeline of a run: rows from a reader are validated,
// handed to a fixed pool of workers that call Cognito under shared rate
// limiters, and their outcomes are written by a single collector.
//
// Files, in the order a row meets them: row.go (validation, through
// internal/target), pipeline.go (reader, workers, stopping), resolve.go
// (email rows), process.go (a row's calls), action_*.go (what each action
// does), collect.go (the one writer). It reaches Cognito, the report and
// the checkpoint only through the interfaces in batch.go, and knows no
// flags, files or S3: the command line and the run import it, never the
// reverse.
package batch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/target"
)

// Limiter paces calls of one quota category. Every attempt takes a token,
// retries included: the service counts attempts, not rows.
type Limiter interface {
	Wait(ctx context.Context) error
	Throttled()
	Succeeded(latency time.Duration)
	Rate() float64
}

// Gate bounds how many rows are in flight at once.
type Gate interface {
	Acquire(ctx context.Context) error
	Release()
}

// Sink receives the final outcome of each row, one call per row, from a
// single goroutine.
type Sink interface {
	Write(r *report.Record) error
	Sync() error
}

// IntentLog durably notes, before a mutating call, that the call may reach
// the service, so a later attempt after a crash knows it. read is what the
// read before the call found: checkpoint.ReadEnabled, ReadDisabled or
// ReadNone.
type IntentLog interface {
	Intent(row int, read string) error
	Sync() error
}

// Options is what to do with each row.
type Options struct {
	Action Action
	// Pool is --user-pool-id: the pool of rows that name none.
	Pool string
	// Region is the run's region; a row naming a pool of another region is
	// invalid rather than a call that could never succeed.
	Region     string
	Attributes []string
	DryRun     bool
	// Concurrency is the number of workers, and so the most mutating calls a
	// kill can leave in flight.
	Concurrency  int
	Retry        retry.Policy
	CallTimeout  time.Duration
	DrainTimeout time.Duration
	// MaxStreak rows in a row that fail after every retry (or are refused by
	// a WAF) stop the run: the service, not the rows, is the problem.
	MaxStreak int
	// ConfirmedPools, when not nil, are the only pools a destructive action
	// may touch; rows naming another pool are invalid.
	ConfirmedPools map[string]bool
	// OnlyDisabledFor, for delete, deletes only users that are disabled and
	// were last modified at least this long ago.
	OnlyDisabledFor time.Duration
}

// NewOptions returns the defaults the CLI documents.
func NewOptions() Options {
	return Options{
		Concurrency:  8,
		Retry:        retry.DefaultPolicy(),
		CallTimeout:  10 * time.Second,
		DrainTimeout: 20 * time.Second,
		MaxStreak:    10,
	}
}

// Job is one run of the pipeline.
type Job struct {
	Options
	Users   cognito.Users
	Writes  Limiter // UserUpdate calls
	Reads   Limiter // AdminGetUser
	Creates Limiter // UserCreation calls (restore's AdminCreateUser)
	Report  Sink
	Intents IntentLog

	// Skip reports rows that an earlier run settled; they are not called
	// again but still count for duplicate detection.
	Skip func(row int) bool
	// Include selects the rows of this shard (nil: all).
	Include func(input.Row) bool
	// Prior holds the intents earlier runs journaled for unsettled rows.
	Prior map[int]string
	// Gate, when set, bounds the rows in flight below the number of
	// workers; the caller resizes it as it learns the latency.
	Gate Gate
	// Dups detects repeated users; nil disables detection.
	Dups *input.Tracker
	// Protected reports users that must never be touched (nil: none).
	Protected func(pool, username string) bool

	// Email rows and backups (resolve.go, backup.go). Lookups nil: email
	// rows are invalid. Lists paces ListUsers (UserList quota). Pools
	// caches DescribeUserPool (nil: one call per email row). Resolved
	// detects duplicates among rows resolved by ListUsers (nil: none).
	// Backup, for delete, keeps each user before its deletion (nil: none).
	Lookups  Lookups
	Lists    Limiter
	Pools    *PoolCache
	Resolved *ResolvedUsers
	Backup   Backup
	// Restore, for restore, is the backup its users come from and the
	// calls that bring them back (action_restore.go).
	Restore *Restorer
	// Missing are the pools found not to exist, seeded with those the
	// pre-flight described (nil: Run starts an empty set); see pools.go.
	Missing *MissingPools

	Log           *slog.Logger
	Progress      func(Stats)
	ProgressEvery time.Duration
	Now           func() time.Time
}

// Stats counts what a run did.
type Stats struct {
	Counts    map[report.Outcome]int
	Rows      int // rows given an outcome by this run
	Skipped   int // rows settled by an earlier run
	Calls     int
	Throttles int
	Retries   int
	Repeated  int
	Started   time.Time
	Elapsed   time.Duration
	WriteRate float64 // the write limiter's rate at the end
	ReadRate  float64 // the read limiter's rate at the end

	// Writes and Reads are the calls paced by Job.Writes and Job.Reads,
	// retries included: two quotas, whose rates a person reads apart.
	// Calls also counts an email row's lookups.
	Writes, Reads int
}

// CallRate is the achieved rate of calls per second.
func (s Stats) CallRate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Calls) / s.Elapsed.Seconds()
}

// ErrInterrupted is returned when the parent context was cancelled (a signal):
// the run drained its in-flight calls and stopped.
var ErrInterrupted = errors.New("interrupted")

// task is a callable row and the user it names; the worker resolves an
// email row's username (resolve.go).
type task struct {
	row input.Row
	target.Target
	// entry is a restore row's user as the backup holds it; via, how an
	// input row that named it by sub or email found it.
	entry *backup.Entry
	via   string
}

type result struct {
	rec       report.Record
	calls     int
	reads     int // attempts paced by Job.Reads (of calls)
	writes    int // attempts paced by Job.Writes (of calls)
	throttles int
	retries   int  // attempts after the first, summed over the row's calls
	transient bool // failed after every retry on a transient error
	forbidden bool
	// ack, when set, is signalled once the outcome is written: a worker
	// takes no new row before, so a kill leaves at most one unwritten
	// outcome per worker and repeats stay bounded by the concurrency.
	ack chan struct{}
}
