package s3sync

import (
	"context"
	"fmt"
	"io"
)

// ObjectInfo identifies the version of an object that was read.
type ObjectInfo struct {
	ETag      string
	VersionID string // empty on an unversioned bucket
	Size      int64
}

// Fetch streams the object at u into w and returns the version read. A
// broken connection resumes where it stopped, on the same version (a
// changed object is ErrPrecondition). A run reads its input twice (the
// pre-pass, then the rows) and the pre-pass needs every byte for the
// fingerprint anyway: one download to a local spool serves both and costs
// no memory.
func (s *Store) Fetch(ctx context.Context, u URL, w io.Writer) (ObjectInfo, error) {
	obj, err := s.fetch(ctx, u, w)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("download: %w", err)
	}
	return ObjectInfo{ETag: obj.ETag, VersionID: obj.VersionID, Size: obj.Size}, nil
}
