// Package fsutil holds the few file-system steps that durability depends on:
// atomic replacement of a file, directory fsync, trimming a torn last line,
// and reading newline-terminated lines without allocating per line.
//
// It imports no cogsweep package; any package that keeps a durable file may
// import it.
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old content or the new one, never a mix: it writes a temporary file in the
// same directory, fsyncs it, renames it over path and fsyncs the directory
// so the rename itself survives a power loss.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: create temp: %w", path, err)
	}
	tmp := f.Name()
	// Remove the temp file on every failure path; after the rename it no
	// longer exists under that name and Remove is a harmless no-op.
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: chmod temp: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: rename: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// CompleteSize returns the length of the part of f that ends with its last
// newline: the bytes after it are a torn line, left by a process killed in
// the middle of writing it (or by a power loss). size is f's current size.
func CompleteSize(f io.ReaderAt, size int64) (int64, error) {
	var buf [4096]byte
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("find last line end: %w", err)
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] == '\n' {
				return end - n + int64(i) + 1, nil
			}
		}
		end -= n
	}
	return 0, nil
}

// TrimTornTail truncates f after its last newline, dropping a torn last line,
// and returns the new size and how many bytes were dropped. Appending to a
// file that ends in a torn line would glue the next record onto it and spoil
// both.
func TrimTornTail(f *os.File) (size, dropped int64, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("trim torn line: %w", err)
	}
	size, err = CompleteSize(f, st.Size())
	if err != nil {
		return 0, 0, fmt.Errorf("trim torn line: %w", err)
	}
	if size == st.Size() {
		return size, 0, nil
	}
	if err := f.Truncate(size); err != nil {
		return 0, 0, fmt.Errorf("trim torn line: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("trim torn line: fsync: %w", err)
	}
	return size, st.Size() - size, nil
}
