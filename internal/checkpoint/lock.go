package checkpoint

import (
	"errors"
	"fmt"
	"os"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// journalFlags open a checkpoint for appending records.
const journalFlags = os.O_RDWR | os.O_APPEND

// lockExclusive opens the checkpoint at path, creating it empty, and takes
// its exclusive lock without waiting. The lock is on the checkpoint itself,
// the file that carries the state: there is no sibling lock file that could
// be deleted under a live run (see fsutil.LockedFile). Two opens in one
// process conflict like two processes do.
func lockExclusive(path string) (*fsutil.LockedFile, error) {
	lf, err := fsutil.LockFile("checkpoint", path, journalFlags)
	if errors.Is(err, fsutil.ErrLocked) {
		return nil, &LockedError{Path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("lock checkpoint: %w", err)
	}
	return lf, nil
}

// lockHeld reports whether a process holds the checkpoint's lock now. It
// creates nothing.
func lockHeld(path string) (bool, error) {
	held, err := fsutil.Held(path)
	if err != nil {
		return false, fmt.Errorf("check checkpoint lock: %w", err)
	}
	return held, nil
}
