package checkpoint

import (
	"fmt"
	"os"
	"time"
)

// StatusInfo is what `cogsweep status` shows about a checkpoint.
type StatusInfo struct {
	State
	Path    string
	Updated time.Time // the file's modification time: the last record written
	// Locked reports whether a process holds the checkpoint now: a run is
	// in progress.
	Locked bool
}

// Status reads the checkpoint at path without taking its lock or changing
// anything. A missing checkpoint is an error wrapping fs.ErrNotExist.
func Status(path string) (StatusInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return StatusInfo{}, fmt.Errorf("checkpoint status: %w", err)
	}
	locked, err := lockHeld(path)
	if err != nil {
		return StatusInfo{}, err
	}
	st, err := Load(path)
	if err != nil {
		return StatusInfo{}, err
	}
	return StatusInfo{State: st, Path: path, Updated: fi.ModTime(), Locked: locked}, nil
}

// RunState names how the checkpoint's run stands: "running" (a process
// holds the lock), "not started", "killed" (a run began and never ended),
// else how the last run ended (finished, interrupted, aborted).
func (s StatusInfo) RunState() string {
	switch {
	case s.Locked:
		return "running"
	case s.Runs == 0:
		return "not started"
	case !s.Ended:
		return "killed"
	}
	return s.LastStatus
}
