package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// ArchiveLayout is the UTC timestamp added to an archived file's name.
const ArchiveLayout = "20060102T150405Z"

// archive renames each existing file in paths to <name>.<UTC timestamp>
// beside it, all with the same timestamp so a report and its checkpoint pair
// up. A name already taken gets a -1, -2, ... suffix: nothing is ever
// overwritten. Missing files are skipped. The directories are fsynced. It
// returns the new names of the files it moved. now is the time stamped.
func archive(now time.Time, paths []string) ([]string, error) {
	stamp := now.UTC().Format(ArchiveLayout)
	var moved []string
	dirs := map[string]bool{}
	for _, p := range paths {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return moved, fmt.Errorf("archive %s: %w", p, err)
		}
		dst, err := renameAside(p, p+"."+stamp)
		if err != nil {
			return moved, fmt.Errorf("archive %s: %w", p, err)
		}
		// The copy keeps its usernames for as long as it is kept: 0600,
		// whatever mode the file had (an older cogsweep, a cp, a umask).
		if err := fsutil.MakePrivate(dst); err != nil {
			return append(moved, dst), fmt.Errorf("archive %s: %w", p, err)
		}
		moved = append(moved, dst)
		dirs[filepath.Dir(p)] = true
	}
	for d := range dirs {
		if err := fsutil.SyncDir(d); err != nil {
			return moved, fmt.Errorf("archive: %w", err)
		}
	}
	return moved, nil
}

// renameAside renames p to base, or base-1, base-2, ... if taken.
func renameAside(p, base string) (string, error) {
	dst := base
	for i := 1; ; i++ {
		err := renameNoReplace(p, dst)
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return "", err
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
}

// checkThenRename is the rename used where the kernel cannot refuse to
// replace.
func checkThenRename(old, new string) error {
	if _, err := os.Lstat(new); err == nil {
		return &os.LinkError{Op: "rename", Old: old, New: new, Err: os.ErrExist}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Rename(old, new)
}

// archiveHeld archives the held files with ArchiveAside, each path getting
// a new, empty file still locked, and then the also files like archive, all
// with one timestamp. An empty held file has nothing to archive and stays.
func archiveHeld(now time.Time, held []*fsutil.LockedFile, also []string) ([]string, error) {
	stamp := now.UTC().Format(ArchiveLayout)
	var moved []string
	for _, lf := range held {
		fi, err := lf.File().Stat()
		if err != nil {
			return moved, fmt.Errorf("archive %s: %w", lf.Path(), err)
		}
		if fi.Size() == 0 {
			continue
		}
		dst, err := lf.ArchiveAside(lf.Path() + "." + stamp)
		if err != nil {
			return moved, err
		}
		moved = append(moved, dst)
	}
	rest, err := archive(now, also)
	return append(moved, rest...), err
}
