package report

import "time"

// SchemaVersion is written in every report header. Bump it when a field
// changes meaning; adding a field does not.
const SchemaVersion = 1

// Record is one report line: the final outcome of one input row.
//
// Row and Outcome come first in the encoding so a resume can find them
// without decoding the whole line (see Scan).
type Record struct {
	Row     int     `json:"row"`
	Outcome Outcome `json:"outcome"`
	// Transient marks a failure that more retries might fix (throttling,
	// 5xx, timeouts); resume attempts such rows again.
	Transient bool   `json:"transient,omitempty"`
	Action    string `json:"action"`
	Username  string `json:"username,omitempty"`
	// Input is the identifying value as given when it was not a username
	// (an email or a sub); ResolvedBy says how it became Username.
	Input      string `json:"input,omitempty"`
	ResolvedBy string `json:"resolved_by,omitempty"`
	// TokenSHA256 identifies a token row without revealing the token: the
	// first 12 hex characters of the SHA-256 of the access token.
	TokenSHA256 string `json:"token_sha256,omitempty"`
	UserPoolID  string `json:"user_pool_id,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	Message     string `json:"message,omitempty"`
	Attempts    int    `json:"attempts"`
	DurationMS  int64  `json:"duration_ms"`
	RequestID   string `json:"request_id,omitempty"`
	// Repeated marks a mutating call that was made again after a crash or a
	// timeout, when the first one may already have reached the service.
	Repeated bool `json:"repeated,omitempty"`
	// OldSub and NewSub are a restored user's sub in the backup and the
	// one Cognito gave it now: applications keyed by sub need the pair.
	// MissingGroups are the backup's groups the pool no longer has.
	OldSub        string    `json:"old_sub,omitempty"`
	NewSub        string    `json:"new_sub,omitempty"`
	MissingGroups []string  `json:"missing_groups,omitempty"`
	At            time.Time `json:"at"`
}

// Header is the first line of a report. Kind is always "header" so a reader
// can tell it from a Record.
type Header struct {
	Kind          string `json:"kind"`
	SchemaVersion int    `json:"schema_version"`
	Tool          string `json:"tool"`
	Version       string `json:"version,omitempty"`
	Action        string `json:"action"`
	Input         string `json:"input,omitempty"`
	Fingerprint   string `json:"fingerprint,omitempty"`
	Rows          int    `json:"rows"`
	DryRun        bool   `json:"dry_run,omitempty"`
	// Shard is "I/N" in the report of one shard of a sharded job; its
	// Fingerprint is then the shard's, and JobFingerprint the whole job's,
	// the same in every shard's report (merge-reports checks it).
	Shard          string    `json:"shard,omitempty"`
	JobFingerprint string    `json:"job_fingerprint,omitempty"`
	StartedAt      time.Time `json:"started_at"`
	// Audit carries who ran what with which options; filled by the CLI.
	Audit map[string]any `json:"audit,omitempty"`
}

// HeaderKind is the value of Header.Kind.
const HeaderKind = "header"
