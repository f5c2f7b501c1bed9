package checkpoint

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames old to new unless new exists (os.ErrExist). The
// kernel checks and renames in one step; file systems without
// RENAME_NOREPLACE fall back to check-then-rename, which only another
// archiver racing for the same name in the same second could defeat.
func renameNoReplace(old, new string) error {
	err := unix.Renameat2(unix.AT_FDCWD, old, unix.AT_FDCWD, new, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &os.LinkError{Op: "rename", Old: old, New: new, Err: os.ErrExist}
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP):
		return checkThenRename(old, new)
	}
	return &os.LinkError{Op: "rename", Old: old, New: new, Err: err}
}
