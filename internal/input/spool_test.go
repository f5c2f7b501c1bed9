package input

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// assertEmptyDir fails the test if dir holds anything: a spool must never have
// a name, whatever happens to the process.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries (first %s), want none", dir, len(entries), entries[0].Name())
	}
}

func TestSpoolReader(t *testing.T) {
	data := bytes.Repeat([]byte("username\nalice\n"), 10_000)
	boom := errors.New("stdin closed")
	tests := []struct {
		name    string
		in      io.Reader
		limit   int64
		wantErr error
	}{
		{name: "whole", in: bytes.NewReader(data), limit: DefaultMaxSpool},
		{name: "exactly the limit", in: bytes.NewReader(data), limit: int64(len(data))},
		{name: "one byte past the limit", in: bytes.NewReader(data), limit: int64(len(data)) - 1, wantErr: ErrSpoolFull},
		{name: "read error", in: io.MultiReader(bytes.NewReader(data[:9]), iotest.ErrReader(boom)), limit: DefaultMaxSpool, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := SpoolReader(t.Context(), tt.in, dir, tt.limit)
			// Nothing is ever named in dir: not while held, not after an error.
			assertEmptyDir(t, dir)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for pass := 1; pass <= 2; pass++ {
				got, err := io.ReadAll(s.Open())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Errorf("pass %d read %d bytes, want the %d given", pass, len(got), len(data))
				}
			}
		})
	}
}

// A cancelled context ends the copy even while the reader blocks forever:
// SIGTERM must not wait for stdin to close.
func TestSpoolReader_CancelWhileStdinBlocks(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := SpoolReader(ctx, pr, t.TempDir(), DefaultMaxSpool)
		done <- err
	}()
	if _, err := pw.Write([]byte("username\nalice\n")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNewSpool_Write(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	assertEmptyDir(t, dir)
	if _, err := io.WriteString(s, "username\nbob\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s.Open())
	if err != nil || string(got) != "username\nbob\n" || s.Size() != 13 {
		t.Errorf("read %q (%v), size %d", got, err, s.Size())
	}
}
