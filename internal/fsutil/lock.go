package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrLocked means another open file description, in this process or
// another, holds the lock.
var ErrLocked = errors.New("locked by another process")

// lockAttempts bounds the retries of LockFile when the file at the path is
// replaced between the open and the lock: that only happens while its
// holder archives or compacts it, which takes one rename.
const lockAttempts = 8

// LockedFile is a file this process holds an exclusive flock on, and that
// was the file at its path when the lock was taken. The lock is on the file
// that carries the state, not on a sibling lock file: a sibling can be
// deleted under a live run (it looks like a stale leftover), and the next
// run would then lock a new inode under the same name. Whoever replaces the
// file at the path must go through Replace or ArchiveAside, which put an
// already locked file there in one rename, so the path never names an
// unlocked file while the holder lives.
type LockedFile struct {
	path string
	flag int // how the file was opened; a new file at the path gets the same
	f    *os.File
}

// LockFile opens path with flag (O_CREATE is added, mode 0600), takes an
// exclusive flock without waiting, and checks that the locked file is still
// the one at path (same device and inode): a file renamed or removed
// between the open and the lock is a stale one, and the open is tried
// again. A lock held elsewhere is an error matching ErrLocked. flock locks
// belong to the open file description, so the kernel releases them when
// the holder exits, even by SIGKILL.
func LockFile(what, path string, flag int) (*LockedFile, error) {
	for i := 0; i < lockAttempts; i++ {
		// Private and never through a link (OpenPrivate), whatever was there.
		f, err := OpenPrivate(what, path, flag|os.O_CREATE)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if err := tryLock(f, true); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		same, err := isAt(f, path)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if same {
			return &LockedFile{path: path, flag: flag, f: f}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("lock %s: the file was replaced under each of %d attempts to lock it", path, lockAttempts)
}

// isAt reports whether f is the file at path now.
func isAt(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// Path returns the locked path.
func (l *LockedFile) Path() string { return l.path }

// File returns the locked file's descriptor; it changes with Replace and
// ArchiveAside.
func (l *LockedFile) File() *os.File { return l.f }

// StillAt reports whether the locked file is still the one at the path: a
// false means someone removed or replaced it under the holder.
func (l *LockedFile) StillAt() (bool, error) { return isAt(l.f, l.path) }

// Replace locks tmp, a file in the same directory, renames it over the path
// and makes it the locked file; the old one is closed. The path names a
// locked file at every moment. tmp belongs to Replace: it is closed on a
// failure before the rename and is l's file after it.
func (l *LockedFile) Replace(tmp *os.File) error {
	if err := tryLock(tmp, true); err != nil {
		tmp.Close()
		return fmt.Errorf("lock %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		tmp.Close()
		return fmt.Errorf("replace %s: %w", l.path, err)
	}
	l.adopt(tmp)
	if err := SyncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("replace %s: %w", l.path, err)
	}
	return nil
}

// adopt makes f, now at the path, the locked file and closes the old one.
func (l *LockedFile) adopt(f *os.File) {
	old := l.f
	l.f = f
	old.Close()
}

// ArchiveAside gives the locked file the name base (or base-1, base-2, ...
// when taken: nothing is overwritten) and puts a new, empty, locked file
// (mode 0600, opened like the old one) at the path. The old file gets its new name
// by a hard link before the new one is renamed over the path, so the path
// never names nothing: a run starting meanwhile finds a locked file. Where
// the file system has no hard links, the old file is renamed aside and the
// new one renamed in only if the path is still free; a run that slipped in
// between makes this fail rather than share the path. It returns the
// archived name.
func (l *LockedFile) ArchiveAside(base string) (string, error) {
	dir := filepath.Dir(l.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(l.path)+".new-*")
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", l.path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	nf, err := os.OpenFile(tmp.Name(), l.flag, 0o600)
	tmp.Close()
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", l.path, err)
	}
	dst, err := l.linkAside(base)
	switch {
	case err == nil:
		if err = l.Replace(nf); err != nil && l.f != nf {
			os.Remove(dst) // the old file is still at the path: undo its second name
			dst = ""
		}
	case noHardLinks(err):
		dst, err = l.renameAside(base, nf)
	default:
		nf.Close()
	}
	if err != nil {
		return dst, fmt.Errorf("archive %s: %w", l.path, err)
	}
	return dst, nil
}

// linkAside links the path to base, or base-1, base-2, ... when taken.
func (l *LockedFile) linkAside(base string) (string, error) {
	dst := base
	for i := 1; ; i++ {
		err := os.Link(l.path, dst)
		if err == nil {
			return dst, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			return "", err
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
}

// renameAside is ArchiveAside without hard links.
// Like Replace, it owns nf.
func (l *LockedFile) renameAside(base string, nf *os.File) (string, error) {
	if err := tryLock(nf, true); err != nil {
		nf.Close()
		return "", fmt.Errorf("lock %s: %w", nf.Name(), err)
	}
	dst := base
	for i := 1; ; i++ {
		err := renameNoReplace(l.path, dst)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) || i > 1000 {
			nf.Close()
			return "", fmt.Errorf("rename %s: %w", l.path, err)
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	if err := renameNoReplace(nf.Name(), l.path); err != nil {
		nf.Close()
		return dst, fmt.Errorf("put a new file at %s (did another run create it meanwhile?): %w", l.path, err)
	}
	l.adopt(nf)
	return dst, SyncDir(filepath.Dir(l.path))
}

// Close releases the lock and closes the file. Unlocking before closing
// makes the release independent of other copies of the descriptor.
func (l *LockedFile) Close() error {
	uerr := unlock(l.f)
	cerr := l.f.Close()
	if uerr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, uerr)
	}
	if cerr != nil {
		return fmt.Errorf("unlock %s: %w", l.path, cerr)
	}
	return nil
}

// Held reports whether a process holds the lock of the file at path now,
// by trying a shared lock and releasing it at once. It creates nothing; a
// missing file is not held.
func Held(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check lock of %s: %w", path, err)
	}
	defer f.Close()
	if err := tryLock(f, false); err != nil {
		if errors.Is(err, ErrLocked) {
			return true, nil
		}
		return false, fmt.Errorf("check lock of %s: %w", path, err)
	}
	return false, unlock(f)
}
