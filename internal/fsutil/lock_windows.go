package fsutil

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is the one byte LockFileEx locks, far past any end of file.
// Windows byte-range locks are mandatory: locking the file's content would
// make every other handle's read fail, and `status` or `report` read the
// checkpoint and report through their own handles while a run holds them.
// A byte no file reaches keeps the lock advisory, as flock is elsewhere.
const lockOffset = 1 << 62

func lockRange() *windows.Overlapped {
	return &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
}

// tryLock takes an exclusive (or shared) lock without waiting. Windows
// locks belong to the handle, as flock's to the open file description, and
// are released when the process exits; one held through another handle is
// ErrLocked.
func tryLock(f *os.File, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, lockRange())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return ErrLocked
	}
	return err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockRange())
}

// noHardLinks reports whether CreateHardLink failed because the file
// system cannot link (FAT, some network shares) or not once more.
func noHardLinks(err error) bool {
	return errors.Is(err, windows.ERROR_NOT_SUPPORTED) || errors.Is(err, windows.ERROR_INVALID_FUNCTION) ||
		errors.Is(err, windows.ERROR_TOO_MANY_LINKS) || errors.Is(err, windows.ERROR_ACCESS_DENIED)
}
