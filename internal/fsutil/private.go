package fsutil

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// PrivateMode is the mode of every file cogsweep writes that names users:
// the report, the checkpoint and its lock, a backup, their archived copies.
const PrivateMode os.FileMode = 0o600

// SymlinkError is a symlink found where cogsweep writes one of its files.
// It matches syscall.ELOOP with errors.Is.
type SymlinkError struct {
	What string // "report", "checkpoint", ...
	Path string
}

func (e *SymlinkError) Error() string {
	return fmt.Sprintf("%s %s is a symlink: cogsweep does not write through links; remove the link or name the file itself", e.What, e.Path)
}

func (e *SymlinkError) Unwrap() error { return syscall.ELOOP }

// OpenPrivate opens path with flag, O_NOFOLLOW added, creating it with
// PrivateMode. A file that already exists is made PrivateMode too (fchmod,
// on the descriptor opened): its old mode was chosen for other content, and
// these files hold usernames. A symlink at path is refused with a
// *SymlinkError naming what: following a link an operator made, or
// replacing it, is a guess either way. A path that is not a regular file
// (a FIFO, a device) is refused too, before its mode is touched.
func OpenPrivate(what, path string, flag int) (*os.File, error) {
	f, err := openNoFollow(path, flag, PrivateMode)
	if err != nil {
		// ELOOP also means too many links in the directories above; only a
		// link as the last component is ours to name.
		if errors.Is(err, syscall.ELOOP) && IsSymlink(path) {
			return nil, &SymlinkError{What: what, Path: path}
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s %s is not a regular file", what, path)
	}
	if st.Mode().Perm() != PrivateMode {
		if err := f.Chmod(PrivateMode); err != nil {
			f.Close()
			return nil, fmt.Errorf("make %s %s private: %w", what, path, err)
		}
	}
	return f, nil
}

// IsSymlink reports whether path itself (not what it points to) is a
// symlink.
func IsSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

// RefuseSymlink returns a *SymlinkError when path is a symlink, nil when it
// is anything else or does not exist. It is the check made before any call,
// so that a run that would be refused at its first write is refused first.
func RefuseSymlink(what, path string) error {
	if IsSymlink(path) {
		return &SymlinkError{What: what, Path: path}
	}
	return nil
}

// MakePrivate sets path to PrivateMode when it is a regular file; a
// symlink, a missing path or anything else is left alone. It is for files
// cogsweep renames rather than opens (archived copies).
func MakePrivate(path string) error {
	f, err := openNoFollow(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if fi, lerr := os.Lstat(path); errors.Is(err, os.ErrPermission) && lerr == nil && fi.Mode().IsRegular() {
			return os.Chmod(path, PrivateMode) // a mode without read for the owner: no descriptor to fchmod
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm() == PrivateMode {
		return nil
	}
	return f.Chmod(PrivateMode)
}
