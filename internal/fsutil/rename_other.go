//go:build !linux

package fsutil

import "os"

// renameNoReplace renames from to to, failing with EEXIST if to exists: a
// hard link refuses an existing name, then the old name goes: macOS and
// Windows have no renameat2, and this is only the fallback of ArchiveAside
// where the file system has no hard links either.
func renameNoReplace(from, to string) error {
	if err := os.Link(from, to); err != nil {
		return err
	}
	return os.Remove(from)
}
