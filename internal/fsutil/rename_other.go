//go:build !linux

package fsutil

import "os"

// renameNoReplace renames from to to, failing with EEXIST if to exists: a
// hard link refuses an existing name, then the old name goes. Releases are
// built for Linux; this keeps `go build` working elsewhere.
func renameNoReplace(from, to string) error {
	if err := os.Link(from, to); err != nil {
		return err
	}
	return os.Remove(from)
}
