//go:build unix

package fsutil

import (
	"os"
	"syscall"
)

// openNoFollow is os.OpenFile refusing a symlink as the last component
// (ELOOP), in the same call as the open.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
}
