package cli

import (
	"fmt"
	"io"
	"os"
)

// spoolFile is stdin spooled to a private temporary file whose name is
// removed as soon as it is open: the run reads it through the descriptor,
// and nothing of stdin (access tokens included) stays on disk once the
// process ends, whether it finishes, fails or is killed. Resuming needs the
// same content piped again, not the spool.
type spoolFile struct {
	f    *os.File
	size int64
}

// holdSpool opens the spool at path and removes its name.
func holdSpool(path string) (*spoolFile, error) {
	f, err := os.Open(path)
	rmErr := os.Remove(path)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	if rmErr != nil {
		f.Close()
		return nil, fmt.Errorf("remove spool: %w", rmErr)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat spool: %w", err)
	}
	return &spoolFile{f: f, size: fi.Size()}, nil
}

// Close closes the spool; the data goes with the last descriptor. A nil
// spool is fine.
func (s *spoolFile) Close() error {
	if s == nil {
		return nil
	}
	return s.f.Close()
}

// openInput opens the input for one pass: the spool, or the input file.
func (r *run) openInput() (io.ReadCloser, error) {
	if r.spool != nil {
		// Each pass gets its own reader at offset 0; closing it leaves the
		// spool open for the next pass.
		return io.NopCloser(io.NewSectionReader(r.spool.f, 0, r.spool.size)), nil
	}
	return os.Open(r.inputPath)
}
