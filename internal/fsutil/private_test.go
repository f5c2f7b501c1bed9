package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenPrivate(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares dir and returns the path to open and a file that
		// must keep its content and mode ("" for none).
		setup       func(t *testing.T, dir string) (path, victim string)
		wantSymlink bool
		wantErr     bool
	}{
		{name: "new file is 0600", setup: func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "r"), ""
		}},
		{name: "existing 0644 file made 0600", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "r")
			writeMode(t, p, "old\n", 0o644)
			return p, ""
		}},
		{name: "existing 0000 file made 0600", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "r")
			writeMode(t, p, "", 0o000)
			return p, ""
		}},
		{name: "symlink to a file refused", setup: func(t *testing.T, dir string) (string, string) {
			victim := filepath.Join(dir, "elsewhere")
			writeMode(t, victim, "", 0o644)
			p := filepath.Join(dir, "r")
			symlink(t, victim, p)
			return p, victim
		}, wantSymlink: true},
		{name: "dangling symlink refused", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "r")
			symlink(t, filepath.Join(dir, "target"), p)
			return p, filepath.Join(dir, "target")
		}, wantSymlink: true},
		{name: "fifo refused with its mode kept", setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "r")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return p, p
		}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, victim := tc.setup(t, dir)
			before := snapshot(victim)
			f, err := OpenPrivate("report", path, os.O_RDWR|os.O_CREATE|os.O_APPEND)
			if f != nil {
				f.Close()
			}
			var se *SymlinkError
			switch {
			case tc.wantSymlink:
				if !errors.As(err, &se) || !errors.Is(err, syscall.ELOOP) {
					t.Fatalf("err = %v, want a SymlinkError matching ELOOP", err)
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "symlink") {
					t.Errorf("message %q does not name the path and say it is a symlink", msg)
				}
			case tc.wantErr:
				if err == nil {
					t.Fatal("want an error")
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
				}
			}
			if victim != "" {
				if after := snapshot(victim); after != before {
					t.Errorf("%s changed: %q -> %q", victim, before, after)
				}
			}
		})
	}
}

func TestMakePrivate(t *testing.T) {
	dir := t.TempDir()
	plain, link, victim := filepath.Join(dir, "archived"), filepath.Join(dir, "link"), filepath.Join(dir, "victim")
	writeMode(t, plain, "x\n", 0o644)
	writeMode(t, victim, "", 0o644)
	symlink(t, victim, link)
	for _, p := range []string{plain, link, filepath.Join(dir, "missing")} {
		if err := MakePrivate(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if fi, _ := os.Stat(plain); fi.Mode().Perm() != 0o600 {
		t.Errorf("archived copy mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Errorf("a link's target was changed to %v", fi.Mode().Perm())
	}
}

func writeMode(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// snapshot is a file's existence, mode and content, for comparing.
func snapshot(p string) string {
	if p == "" {
		return ""
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent"
	}
	if !fi.Mode().IsRegular() {
		return fi.Mode().String()
	}
	data, _ := os.ReadFile(p)
	return fi.Mode().String() + ":" + string(data)
}
