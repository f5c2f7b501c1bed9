package fsutil

import (
	"os"
	"syscall"
)

// openNoFollow refuses a symlink at path with ELOOP, as O_NOFOLLOW does
// elsewhere. Windows has no such open flag, so the check is an Lstat just
// before the open: a link made between the two is followed.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if IsSymlink(path) {
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
	}
	return os.OpenFile(path, flag, perm)
}
