// Package run is the life of one run of an action: plan (the input scanned,
// the region, the fingerprint), open (report, checkpoint, lock, resume
// state), admit (pre-flight, confirmation, guards), execute (the batch) and
// settle (not_attempted rows, compaction, summary, exit). It takes validated
// Options and an Env from the command line (internal/cli) and returns an
// error whose class decides the exit code (errors.go).
//
// It may import every package below it (batch, input, report, checkpoint,
// cognito, s3sync, ...); only internal/cli and tests import it. It parses no
// flag and reads no COGSWEEP_* variable.
package run
