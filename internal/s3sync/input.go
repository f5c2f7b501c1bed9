package s3sync

import (
	"context"
	"fmt"
	"os"
)

// ObjectInfo identifies the version of an object that was read.
type ObjectInfo struct {
	ETag      string
	VersionID string // empty on an unversioned bucket
	Size      int64
}

// FetchFile copies the object at u into a new private (0600) file in dir
// ("" means os.TempDir()), streaming, and returns the file's path and the
// version read. A run reads its input twice (the pre-pass, then the rows)
// and the pre-pass needs every byte for the fingerprint anyway: one download
// to a local file serves both and costs no memory. On error nothing is left
// behind; the caller removes the file when done.
func (s *Store) FetchFile(ctx context.Context, u URL, dir string) (path string, info ObjectInfo, err error) {
	f, err := os.CreateTemp(dir, "cogsweep-s3-input-*")
	if err != nil {
		return "", ObjectInfo{}, fmt.Errorf("download %s: %w", u, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	obj, err := s.fetch(ctx, u, f)
	if err != nil {
		return "", ObjectInfo{}, fmt.Errorf("download: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", ObjectInfo{}, fmt.Errorf("download %s: %w", u, err)
	}
	return f.Name(), ObjectInfo{ETag: obj.ETag, VersionID: obj.VersionID, Size: obj.Size}, nil
}
