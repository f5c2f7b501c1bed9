package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultMaxSpool is the most stdin a run copies aside (--max-stdin-size):
// a stream that never ends must not fill the disk.
const DefaultMaxSpool int64 = 4 << 30

// ErrSpoolFull is a stdin larger than the spool's limit.
var ErrSpoolFull = errors.New("stdin is larger than --max-stdin-size")

// Spool is an input (stdin, or an object downloaded from S3) held in a
// private file that has no name: it is unlinked from the moment it exists
// (O_TMPFILE where the file system has it), so nothing of it, access tokens
// included, stays on disk once the process ends, however it ends. A run
// reads it twice, the pre-pass and the rows, through Open. Resuming needs
// the same content again, not the spool.
type Spool struct {
	f    *os.File
	size int64
}

// NewSpool creates an empty spool in dir ("" means os.TempDir()).
func NewSpool(dir string) (*Spool, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := createUnnamed(dir)
	if err != nil {
		return nil, fmt.Errorf("create spool: %w", err)
	}
	return &Spool{f: f}, nil
}

// SpoolReader copies r into a new spool in dir, at most limit bytes
// (ErrSpoolFull past it). A cancelled ctx ends the copy at once with
// ctx.Err(), even while r blocks in a read that cannot be interrupted (a
// terminal or a pipe whose writer is silent): the reading goroutine is
// left to the process's exit.
func SpoolReader(ctx context.Context, r io.Reader, dir string, limit int64) (*Spool, error) {
	s, err := NewSpool(dir)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.ReadFrom(io.LimitReader(r, limit+1))
		done <- err
	}()
	select {
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	case err = <-done:
	}
	switch {
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("spool: %w", err)
	case s.size > limit:
		s.Close()
		return nil, fmt.Errorf("%w (%d bytes)", ErrSpoolFull, limit)
	}
	return s, nil
}

// Write appends p, so that a download can stream into the spool.
func (s *Spool) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.size += int64(n)
	return n, err
}

// ReadFrom appends everything r gives.
func (s *Spool) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(s.f, r)
	s.size += n
	return n, err
}

// Size is the number of bytes held.
func (s *Spool) Size() int64 { return s.size }

// Open returns a reader of the whole spool from its first byte; each pass
// gets its own, and none moves another's offset.
func (s *Spool) Open() io.ReadCloser {
	return io.NopCloser(io.NewSectionReader(s.f, 0, s.size))
}

// Close releases the spool; its data goes with the descriptor. A nil spool
// is fine.
func (s *Spool) Close() error {
	if s == nil {
		return nil
	}
	return s.f.Close()
}

// createUnnamedTemp is the portable way: create, then unlink at once. A kill
// between the two leaves an empty file, never data.
func createUnnamedTemp(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "cogsweep-spool-*") // mode 0600
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
