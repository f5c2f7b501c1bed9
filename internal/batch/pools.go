package batch

import (
	"fmt"
	"sync"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// codePoolMissing is the code a row of a missing pool reports, the one
// Cognito answers for it.
const codePoolMissing = "ResourceNotFoundException"

// MissingPools are the user pools a run found not to exist. A row's
// user_pool_id may name any pool: when one is missing, its rows fail
// (ResourceNotFoundException) and rows of other pools go on (CONTRACT
// "Confirmation and guards"). Once a call has found a pool missing, its
// later rows fail without a call: each would cost a token of the shared
// quota to learn the same thing. It is safe for concurrent use.
type MissingPools struct {
	mu    sync.Mutex
	pools map[string]bool
}

// NewMissingPools returns an empty set.
func NewMissingPools() *MissingPools { return &MissingPools{pools: map[string]bool{}} }

// Add records that pool does not exist.
func (m *MissingPools) Add(pool string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pools[pool] = true
}

// Has reports whether pool was found not to exist.
func (m *MissingPools) Has(pool string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pools[pool]
}

// missing returns the run's set; Run makes it when the caller gave none.
func (j *Job) missing() *MissingPools {
	if j.Missing == nil {
		return NewMissingPools() // a Job used outside Run: nothing shared
	}
	return j.Missing
}

// poolMissingRecord is the outcome of a row whose pool an earlier call
// found missing: failed, with the code that call got, and no call.
func poolMissingRecord(rec report.Record, pool string) report.Record {
	rec.Outcome = report.Failed
	rec.ErrorCode = codePoolMissing
	rec.Message = fmt.Sprintf("user pool %s does not exist (an earlier row's call found it missing); rows of other pools go on", pool)
	return rec
}

// poolFailed records, for a call that found its pool missing, that the
// pool's later rows need no call.
func (j *Job) poolFailed(r retry.Result, pool string) {
	if r.Class == retry.PoolMissing && pool != "" {
		j.missing().Add(pool)
	}
}
