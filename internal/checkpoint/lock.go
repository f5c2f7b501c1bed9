package checkpoint

import (
	"errors"
	"fmt"
	"os"

	"github.com/cogsweep/cogsweep/internal/fsutil"
	"golang.org/x/sys/unix"
)

// lockPath is the sibling file the lock is taken on. The lock is not on the
// checkpoint itself because the checkpoint is archived (renamed) and
// recreated while its holder runs: a lock on the renamed inode would leave
// the new file unguarded. The lock file is never removed: removing it would
// let two processes lock two different inodes under one name.
func lockPath(path string) string { return path + ".lock" }

// lockExclusive takes the exclusive lock for the checkpoint at path, without
// waiting. flock locks belong to the open file description, so the kernel
// releases them when the holder exits, even by SIGKILL, and two opens in one
// process conflict like two processes do.
func lockExclusive(path string) (*os.File, error) {
	lf, err := fsutil.OpenPrivate("checkpoint lock", lockPath(path), os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("lock checkpoint: %w", err)
	}
	if err := flock(lf, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lf.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Path: path}
		}
		return nil, fmt.Errorf("lock checkpoint %s: %w", path, err)
	}
	return lf, nil
}

// unlock releases the lock and closes its file. Closing alone would release
// it too; unlocking first makes the release independent of other copies of
// the descriptor.
func unlock(lf *os.File) error {
	uerr := flock(lf, unix.LOCK_UN)
	cerr := lf.Close()
	if uerr != nil {
		return fmt.Errorf("unlock checkpoint: %w", uerr)
	}
	if cerr != nil {
		return fmt.Errorf("unlock checkpoint: %w", cerr)
	}
	return nil
}

// lockHeld reports whether a process holds the checkpoint's lock now, by
// trying a shared lock and releasing it at once. It creates nothing.
func lockHeld(path string) (bool, error) {
	lf, err := os.Open(lockPath(path))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check checkpoint lock: %w", err)
	}
	defer lf.Close()
	if err := flock(lf, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return true, nil
		}
		return false, fmt.Errorf("check checkpoint lock: %w", err)
	}
	return false, flock(lf, unix.LOCK_UN)
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}
