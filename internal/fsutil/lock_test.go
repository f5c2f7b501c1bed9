package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLockFile(t *testing.T) {
	tests := []struct {
		name string
		// act runs while a first LockedFile holds path and returns what a
		// second LockFile of path must give.
		act     func(t *testing.T, l *LockedFile) error
		wantErr error
		// stillAt is what the holder's StillAt must say afterwards.
		stillAt bool
	}{
		{name: "second lock in the same process", act: func(*testing.T, *LockedFile) error { return nil },
			wantErr: ErrLocked, stillAt: true},
		{name: "a sibling .lock file removed changes nothing", act: func(_ *testing.T, l *LockedFile) error {
			return ignoreMissing(os.Remove(l.Path() + ".lock"))
		}, wantErr: ErrLocked, stillAt: true},
		{name: "file removed under the holder: the holder can tell", act: func(_ *testing.T, l *LockedFile) error {
			return os.Remove(l.Path())
		}, wantErr: nil, stillAt: false},
		{name: "archived aside: the path stays locked", act: func(t *testing.T, l *LockedFile) error {
			dst, err := l.ArchiveAside(l.Path() + ".old")
			if err != nil {
				return err
			}
			if held, err := Held(dst); err != nil || held {
				t.Errorf("archived file held = %v, %v; want free", held, err)
			}
			if data, _ := os.ReadFile(dst); string(data) != "state\n" {
				t.Errorf("archived content = %q", data)
			}
			if fi, err := os.Stat(l.Path()); err != nil || fi.Size() != 0 {
				t.Errorf("new file at the path = %v, %v; want empty", fi, err)
			}
			return nil
		}, wantErr: ErrLocked, stillAt: true},
		{name: "replaced by the holder: the path stays locked", act: func(_ *testing.T, l *LockedFile) error {
			tmp, err := os.CreateTemp(filepath.Dir(l.Path()), "tmp-*")
			if err != nil {
				return err
			}
			return l.Replace(tmp)
		}, wantErr: ErrLocked, stillAt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.checkpoint")
			if err := os.WriteFile(path, []byte("state\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := LockFile("file", path, os.O_RDWR|os.O_APPEND)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := tt.act(t, l); err != nil {
				t.Fatal(err)
			}
			l2, err := LockFile("file", path, os.O_RDWR)
			if l2 != nil {
				defer l2.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("second LockFile = %v, want %v", err, tt.wantErr)
			}
			if at, err := l.StillAt(); err != nil || at != tt.stillAt {
				t.Fatalf("StillAt = %v, %v; want %v", at, err, tt.stillAt)
			}
		})
	}
}

func TestLockFile_ArchiveAsideNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.report.ndjson")
	if err := os.WriteFile(path+".old", []byte("earlier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LockFile("file", path, os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst, err := l.ArchiveAside(path + ".old")
	if err != nil || dst != path+".old-1" {
		t.Fatalf("ArchiveAside = %q, %v; want %s.old-1", dst, err, path)
	}
	if data, _ := os.ReadFile(path + ".old"); string(data) != "earlier\n" {
		t.Fatalf("taken name overwritten: %q", data)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Fatalf("temp files left: %v", m)
	}
}

func TestHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if held, err := Held(path); err != nil || held {
		t.Fatalf("missing file: %v, %v", held, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Held created the file")
	}
	l, err := LockFile("file", path, os.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); err != nil || !held {
		t.Fatalf("while locked: %v, %v", held, err)
	}
	l.Close()
	if held, err := Held(path); err != nil || held {
		t.Fatalf("after Close: %v, %v", held, err)
	}
}

func ignoreMissing(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
