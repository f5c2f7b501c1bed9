package report

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Summary is the end-of-run summary: printed at the end of every run and
// written as JSON by --summary PATH for whatever watches the job.
type Summary struct {
	Action string `json:"action"`
	DryRun bool   `json:"dry_run,omitempty"`
	// Status is how the run ended: finished, interrupted or aborted.
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	// Reason says why an aborted or interrupted run stopped.
	Reason string `json:"reason,omitempty"`

	Rows   int             `json:"rows"` // rows in the input (or in this shard)
	Counts map[Outcome]int `json:"counts"`

	Calls     int64 `json:"calls"`     // API calls made by this run, retries included
	Throttles int64 `json:"throttles"` // calls answered TooManyRequestsException
	Retries   int64 `json:"retries"`   // attempts after the first, per row
	Repeated  int64 `json:"repeated"`  // mutating calls made again after a kill or timeout

	StartedAt      time.Time `json:"started_at"`
	ElapsedSeconds float64   `json:"elapsed_seconds"`
	// AchievedRate is calls per second over the run; LimiterRate the
	// limiter's rate at the end (it moves under --rate auto).
	AchievedRate float64 `json:"achieved_rate"`
	LimiterRate  float64 `json:"limiter_rate"`
	// Writes and Reads are the calls of the write quota (UserUpdate) and
	// of the read quota (AdminGetUser), which has its own limiter at
	// ReadLimiterRate; Calls also counts an email row's lookups.
	Writes          int64   `json:"writes"`
	Reads           int64   `json:"reads"`
	ReadLimiterRate float64 `json:"read_limiter_rate"`

	Report     string `json:"report,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`

	// EndedAt is when the run ended; Audit is its audit record (who ran
	// what, with which options), as in the report header.
	EndedAt time.Time      `json:"ended_at"`
	Audit   map[string]any `json:"audit,omitempty"`
}

// SetElapsed fills ElapsedSeconds and AchievedRate from the run's duration.
func (s *Summary) SetElapsed(d time.Duration) {
	s.ElapsedSeconds = d.Seconds()
	s.AchievedRate = 0
	if d > 0 {
		s.AchievedRate = float64(s.Calls) / d.Seconds()
	}
}

// Problems returns how many rows ended invalid, failed or not_attempted.
func (s *Summary) Problems() int {
	n := 0
	for o, c := range s.Counts {
		if o.Problem() {
			n += c
		}
	}
	return n
}

// WriteFile writes the summary as indented JSON to path, atomically and
// with mode 0600 like every file the tool writes.
func (s *Summary) WriteFile(path string) error {
	c := *s
	if c.Counts == nil {
		c.Counts = map[Outcome]int{} // {} rather than null for readers that index it
	}
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	data = append(data, '\n')
	if err := fsutil.WriteFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
