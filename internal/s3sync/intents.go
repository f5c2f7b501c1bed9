package s3sync

// The intent log a Syncer wraps: an intent is written once it is in S3.

import "fmt"

// IntentLog is the method set of batch.IntentLog, which Syncer.Intents
// wraps (this package does not import batch).
type IntentLog interface {
	Intent(row int, read string) error
	Sync() error
}

// Intents wraps a checkpoint's intent log: an intent counts as written only
// once it is in S3. What is not in S3 does not exist for the next pod, so a
// mutating call must not start before its intent is uploaded. Because a
// worker's previous outcome is written before it journals its next intent,
// the same upload carries that outcome too: at most one row per worker has
// its intent in S3 and its outcome not.
func (y *Syncer) Intents(inner IntentLog) IntentLog { return &intentLog{inner: inner, y: y} }

type intentLog struct {
	inner IntentLog
	y     *Syncer
}

func (l *intentLog) Intent(row int, read string) error {
	if err := l.y.Check(); err != nil {
		return err
	}
	if err := l.inner.Intent(row, read); err != nil {
		return err
	}
	if err := l.y.Durable(); err != nil {
		return fmt.Errorf("upload checkpoint: %w", err)
	}
	return nil
}

func (l *intentLog) Sync() error { return l.inner.Sync() }
