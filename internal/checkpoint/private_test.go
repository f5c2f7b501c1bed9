package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The checkpoint (which is its own lock) and archived copies are 0600 whatever was there;
// a symlink at the checkpoint path is refused and its target not created.
func TestCheckpointFiles_PrivateAndNoFollow(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string) (victim string)
		want  error
	}{
		{name: "existing 0644 checkpoint made 0600", setup: func(t *testing.T, path string) string {
			writeJournal(t, path)
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
		{name: "dangling checkpoint symlink refused", setup: func(t *testing.T, path string) string {
			target := filepath.Join(filepath.Dir(path), "target")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return target
		}, want: syscall.ELOOP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := newPath(t)
			victim := tc.setup(t, path)
			j, err := Open(path)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				if _, err := os.Lstat(victim); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the link's target %s was created", victim)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v (%v), want 0600", path, fi.Mode().Perm(), err)
			}
		})
	}
}

func TestArchive_CopiesArePrivate(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "run.report.ndjson")
	if err := os.WriteFile(a, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(a, 0o644); err != nil {
		t.Fatal(err)
	}
	moved, err := archive(time.Now(), []string{a})
	if err != nil || len(moved) != 1 {
		t.Fatalf("archive = %v, %v", moved, err)
	}
	if fi, err := os.Stat(moved[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("archived copy mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func writeJournal(t *testing.T, path string) {
	t.Helper()
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}
