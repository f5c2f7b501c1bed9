// Package checkpoint keeps a run's durable identity and intents: which
// input, action and options the run belongs to, each start and end of a run,
// and, before every mutating call, the intent to make it with what the read
// before it found. Outcomes are not here: they are the report's.
//
// The journal is append-only NDJSON (mode 0600). Every record is one
// write(2), so a SIGKILL loses nothing already written; the caller groups
// fsyncs with Sync. A process holds an exclusive flock on the checkpoint
// file itself for as long as it has the journal open; the kernel drops it
// when the process dies, however it dies.
//
// It may import fsutil only; internal/batch (the intent's read values) and
// internal/run import it, the command line does not.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// HeaderKind is the value of Header.Kind.
const HeaderKind = "checkpoint"

// Version is the journal format written by this package.
const Version = 1

// Header is the first line of a checkpoint: what the run is.
type Header struct {
	Kind        string    `json:"kind"`
	V           int       `json:"v"`
	Fingerprint string    `json:"fingerprint"`
	Action      string    `json:"action"`
	Pool        string    `json:"pool,omitempty"`
	Input       string    `json:"input,omitempty"`
	Rows        int       `json:"rows"`
	DryRun      bool      `json:"dry_run"`
	CreatedAt   time.Time `json:"created_at"`
	// Options holds the options that change what the run does, as given.
	Options map[string]string `json:"options,omitempty"`
	// Guards holds the guards' verdicts from the run's first start; a
	// resume reuses them rather than judging a pool its deletes shrank.
	Guards json.RawMessage `json:"guards,omitempty"`
}

// End statuses.
const (
	Finished    = "finished"
	Interrupted = "interrupted"
	Aborted     = "aborted"
)

// Read results recorded with an intent: what the read before the mutating
// call found. ReadNone means no read was made.
const (
	ReadEnabled  = "enabled"
	ReadDisabled = "disabled"
	ReadAbsent   = "absent"
	ReadNone     = ""
)

// ErrLocked means another live process has the checkpoint open.
var ErrLocked = errors.New("checkpoint is held by a running cogsweep")

// ErrCorrupt means the checkpoint's header is missing, truncated or not a
// checkpoint header: the file cannot tell what run it belongs to.
var ErrCorrupt = errors.New("checkpoint is corrupt")

// ErrVersion means the checkpoint was written in a format this build does
// not know (by a newer cogsweep).
var ErrVersion = errors.New("checkpoint format version not supported")

// LockedError names the checkpoint another process holds. It matches
// ErrLocked with errors.Is.
type LockedError struct{ Path string }

func (e *LockedError) Error() string {
	return fmt.Sprintf("checkpoint %s is held by a running cogsweep (another run of the same command?)", e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// State is what a checkpoint says about past runs.
type State struct {
	Header    Header
	HasHeader bool // false for an empty checkpoint
	// Runs is the number of the last run started (runs count from 1; 0
	// means none started).
	Runs int
	// Ended reports whether the last run started wrote an end record; a run
	// that did not was killed.
	Ended bool
	// LastStatus, LastReason and EndedAt are from the last end record, which
	// belongs to an earlier run when Ended is false.
	LastStatus string
	LastReason string
	EndedAt    time.Time
	Intents    int  // intent records
	Skipped    int  // unparsable records, skipped
	Torn       bool // the file ended in a torn line, which was dropped
	// Corrupt lists the lines skipped as corrupt: the Skipped ones, and a
	// torn tail that a kill mid-append cannot have left (zeros, garbage).
	// A reader warns about them; the Intents of these lines are lost.
	Corrupt fsutil.BadLines

	hdrLen int64 // bytes of the header line, newline included
}

// Finished reports whether the last run ended by itself with every row done.
func (s State) Finished() bool { return s.Ended && s.LastStatus == Finished }

// Unfinished reports whether a run was started and did not finish: killed,
// interrupted or aborted. A checkpoint with a header but no run is unfinished
// too (killed right after writing the header).
func (s State) Unfinished() bool { return s.HasHeader && !s.Finished() }

func validStatus(s string) bool { return s == Finished || s == Interrupted || s == Aborted }

// readValue returns the constant for a read result, so a parsed one does not
// allocate; ok is false for an unknown value.
func readValue(b []byte) (string, bool) {
	switch string(b) {
	case ReadEnabled:
		return ReadEnabled, true
	case ReadDisabled:
		return ReadDisabled, true
	case ReadAbsent:
		return ReadAbsent, true
	case ReadNone:
		return ReadNone, true
	}
	return "", false
}
