package s3sync

// Uploading the archived copies (report.<timestamp>) a run sets aside.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// archiveSuffix is what checkpoint adds to an archived name: a UTC timestamp,
// and -N when that name was taken.
var archiveSuffix = regexp.MustCompile(`^\.\d{8}T\d{6}Z(-\d+)?$`)

// uploadArchives copies the files archived beside the mirrored ones to S3,
// beside the mirrored objects, before the mirrors' new content replaces the
// old: S3 never loses a run that was archived locally. An archive is never
// overwritten (If-None-Match); an object already there of the same size is
// taken for this file's earlier upload.
func (y *Syncer) uploadArchives(ctx context.Context, mirrors []*Mirror) error {
	for _, m := range mirrors {
		dir, base := filepath.Dir(m.local), filepath.Base(m.local)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("list archives: %w", err)
		}
		for _, e := range ents {
			suffix, ok := strings.CutPrefix(e.Name(), base)
			path := filepath.Join(dir, e.Name())
			if !ok || !archiveSuffix.MatchString(suffix) || y.isArchived(path) {
				continue
			}
			if err := y.uploadArchive(ctx, path, m.url.With(suffix)); err != nil {
				return err
			}
			y.mu.Lock()
			y.archived[path] = true
			y.mu.Unlock()
			y.s.log.Info("archived the previous run in S3", "object", m.url.With(suffix).String())
		}
	}
	return nil
}

func (y *Syncer) isArchived(path string) bool {
	y.mu.Lock()
	defer y.mu.Unlock()
	return y.archived[path]
}

func (y *Syncer) uploadArchive(ctx context.Context, path string, u URL) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload archive: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload archive: %w", err)
	}
	for i := 0; i < 10; i++ {
		dst := u
		if i > 0 {
			dst = u.With(fmt.Sprintf("-s3-%d", i))
		}
		_, err := y.s.put(ctx, dst, f, fi.Size(), cond{ifNoneMatch: true}, nil)
		if !errors.Is(err, ErrPrecondition) {
			if err != nil {
				return fmt.Errorf("upload archive: %w", err)
			}
			return nil
		}
		if o, herr := y.s.head(ctx, dst); herr == nil && o.Size == fi.Size() {
			return nil
		}
	}
	return fmt.Errorf("upload archive %s: every name is taken", u)
}
