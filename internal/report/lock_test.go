package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// TestLockReport checks that a report stays held by its run through the
// rewrites the run makes of it, so no second run can lock, archive or
// append to it meanwhile.
func TestLockReport(t *testing.T) {
	tests := []struct {
		name    string
		fixture string // "" for no report yet
		rewrite func(l *fsutil.LockedFile) error
		kept    int // rows with a line afterwards
	}{
		{name: "no report yet", rewrite: func(*fsutil.LockedFile) error { return nil }},
		{name: "compact that rewrites", fixture: "last_wins", kept: 3, rewrite: func(l *fsutil.LockedFile) error {
			_, err := CompactLocked(l, 5)
			return err
		}},
		{name: "load that rewrites", fixture: "garbage", kept: 2, rewrite: func(l *fsutil.LockedFile) error {
			_, err := LoadLocked(l, 5, false)
			return err
		}},
		{name: "compact with nothing to drop", fixture: "already_compact", kept: 3, rewrite: func(l *fsutil.LockedFile) error {
			_, err := CompactLocked(l, 5)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "report.ndjson")
			if tt.fixture != "" {
				path = copyFixture(t, tt.fixture)
			}
			l, err := LockReport(path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := tt.rewrite(l); err != nil {
				t.Fatal(err)
			}
			if _, err := LockReport(path); !errors.Is(err, fsutil.ErrLocked) {
				t.Fatalf("second LockReport = %v, want ErrLocked", err)
			}
			if at, err := l.StillAt(); err != nil || !at {
				t.Fatalf("the held file is not the one at the path: %v, %v", at, err)
			}
			if tt.fixture == "" {
				return
			}
			if _, kept, err := Count(path); err != nil || kept != tt.kept {
				t.Fatalf("Count = %d, %v; want %d rows", kept, err, tt.kept)
			}
			if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(m) != 0 {
				t.Fatalf("temp files left: %v", m)
			}
		})
	}
}

func TestLockReport_FreeAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.ndjson")
	l, err := LockReport(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	l2, err := LockReport(path)
	if err != nil {
		t.Fatalf("LockReport after Close: %v", err)
	}
	l2.Close()
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("report = %v, %v", fi, err)
	}
}
