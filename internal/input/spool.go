package input

import (
	"fmt"
	"io"
	"os"
)

// Spool copies r (stdin) to a new private (0600) file in dir ("" means
// os.TempDir()) and fsyncs it, so a run can read its input twice: once to
// scan, once to process. The caller removes the file. On error nothing is
// left behind.
func Spool(r io.Reader, dir string) (path string, err error) {
	f, err := os.CreateTemp(dir, "cogsweep-stdin-*") // CreateTemp opens with mode 0600
	if err != nil {
		return "", fmt.Errorf("spool stdin: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return "", fmt.Errorf("spool stdin: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("spool stdin: sync: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("spool stdin: close: %w", err)
	}
	return f.Name(), nil
}
