// Package report defines the outcome of each input row and writes them as an
// NDJSON report: one header record, then one line per row.
//
// It may import fsutil and redact; batch, run, reportpage, metrics and the
// command line import it. It makes no call.
package report

// Outcome is what happened to one input row. The set is part of the
// user-visible contract (README "Report").
type Outcome string

// Success outcomes.
const (
	Disabled           Outcome = "disabled"
	AlreadyDisabled    Outcome = "already_disabled"
	Deleted            Outcome = "deleted"
	NotFound           Outcome = "not_found"
	Duplicate          Outcome = "duplicate"
	Enabled            Outcome = "enabled"
	AttributesDeleted  Outcome = "attributes_deleted"
	SelfDeleted        Outcome = "self_deleted"
	SignedOut          Outcome = "signed_out"
	Protected          Outcome = "protected"
	SkippedNotDisabled Outcome = "skipped_not_disabled"
	SkippedTooRecent   Outcome = "skipped_too_recent"
	Skipped            Outcome = "skipped"
	// Restored and AlreadyExists are restore's: a user of that name in the
	// pool is never overwritten.
	Restored      Outcome = "restored"
	AlreadyExists Outcome = "already_exists"
)

// Problem outcomes.
const (
	Invalid      Outcome = "invalid"
	Failed       Outcome = "failed"
	NotAttempted Outcome = "not_attempted"
	// NotInBackup is restore's: the input names a user the backup does
	// not hold.
	NotInBackup Outcome = "not_in_backup"
)

// WouldPrefix starts every dry-run outcome: would_disable, would_delete, ...
const WouldPrefix = "would_"

// Problem reports whether the outcome makes a finished run exit non-zero.
func (o Outcome) Problem() bool {
	return o == Invalid || o == Failed || o == NotAttempted || o == NotInBackup
}

// Settled reports whether a resumed run leaves a row with this outcome alone.
// transient is the record's Transient flag (a failure that retries might fix).
// Skips that depend on time or on a person's action are never settled: a later
// run may find the user ready.
func (o Outcome) Settled(transient, retryFailed bool) bool {
	switch o {
	case NotAttempted, SkippedNotDisabled, SkippedTooRecent:
		return false
	case Failed:
		return !transient && !retryFailed
	}
	return o != ""
}
