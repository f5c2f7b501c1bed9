package report

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The report holds usernames: it is 0600 whatever was at its path, and a
// symlink there is refused, never written through or created at its target.
func TestReportFiles_PrivateAndNoFollow(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the report path and a file that must not change.
		setup func(t *testing.T, dir string) (path, victim string)
		open  func(path string) error
		want  error // nil: opened, and the report is 0600 afterwards
	}{
		{name: "OpenWriter tightens an existing 0644 report", setup: existing0644, open: openWriter},
		{name: "Load tightens an existing 0644 report", setup: existing0644, open: loadPath},
		{name: "OpenWriter refuses a symlink to an empty file", setup: linkToEmpty, open: openWriter, want: syscall.ELOOP},
		{name: "OpenWriter refuses a dangling symlink", setup: dangling, open: openWriter, want: syscall.ELOOP},
		{name: "Load refuses a symlink", setup: linkToEmpty, open: loadPath, want: syscall.ELOOP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, victim := tc.setup(t, t.TempDir())
			var before []byte
			var beforeErr error
			if victim != "" {
				before, beforeErr = os.ReadFile(victim)
			}
			err := tc.open(path)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("report mode %v (%v), want 0600", fi.Mode().Perm(), err)
				}
			}
			if victim != "" {
				after, afterErr := os.ReadFile(victim)
				if string(after) != string(before) || (beforeErr == nil) != (afterErr == nil) {
					t.Errorf("link target changed: %q (%v) -> %q (%v)", before, beforeErr, after, afterErr)
				}
			}
		})
	}
}

func openWriter(path string) error {
	w, err := OpenWriter(path, testHeader())
	if err != nil {
		return err
	}
	return w.Close()
}

func loadPath(path string) error {
	_, err := Load(path, 10, false)
	return err
}

func existing0644(t *testing.T, dir string) (string, string) {
	p := filepath.Join(dir, "run.report.ndjson")
	w, err := OpenWriter(p, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, ""
}

func linkToEmpty(t *testing.T, dir string) (string, string) {
	victim := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(victim, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "run.report.ndjson")
	if err := os.Symlink(victim, p); err != nil {
		t.Fatal(err)
	}
	return p, victim
}

func dangling(t *testing.T, dir string) (string, string) {
	p := filepath.Join(dir, "run.report.ndjson")
	target := filepath.Join(dir, "target")
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
	return p, target
}
