package input

import (
	"os"

	"golang.org/x/sys/unix"
)

// createUnnamed opens a file that never has a name (O_TMPFILE), falling
// back to create-and-unlink on file systems without it.
func createUnnamed(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return f, nil
	}
	return createUnnamedTemp(dir)
}
