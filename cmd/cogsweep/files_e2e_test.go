package main_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// Every file of a run that names users is 0600 after the run, whatever mode
// was at its path before.
func TestE2E_FilesArePrivate(t *testing.T) {
	tests := []struct {
		name string
		// before runs in dir ahead of the checked run; it returns the files
		// that must be 0600 afterwards (beside the report and checkpoint).
		before       func(t *testing.T, dir, url string) []string
		input        string
		wantArchived bool
	}{
		{name: "empty 0644 file at --report", input: "users.csv", before: func(t *testing.T, dir, _ string) []string {
			widen(t, write(t, filepath.Join(dir, "out.report.ndjson"), ""))
			return nil
		}},
		{name: "resume over a 0644 report and checkpoint", input: "users.csv", before: func(t *testing.T, dir, url string) []string {
			mustRun(t, dir, url, "users.csv")
			for _, f := range []string{"out.report.ndjson", "out.checkpoint"} {
				widen(t, filepath.Join(dir, f))
			}
			return nil
		}},
		{name: "archived copies of a 0644 run", input: "other.csv", before: func(t *testing.T, dir, url string) []string {
			mustRun(t, dir, url, "users.csv")
			widen(t, filepath.Join(dir, "out.report.ndjson"))
			widen(t, filepath.Join(dir, "out.checkpoint"))
			return nil // the archived names are found after the run
		}, wantArchived: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startFake(t, fakecognito.Options{}, 4)
			dir := t.TempDir()
			writeUsers(t, dir, 3)
			write(t, filepath.Join(dir, "other.csv"), "username\n"+name(4)+"\n")
			extra := tc.before(t, dir, url)
			mustRun(t, dir, url, tc.input)
			files, err := filepath.Glob(filepath.Join(dir, "out.*"))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, extra...)
			if len(files) < 2 {
				t.Fatalf("files %v", files)
			}
			if archived, _ := filepath.Glob(filepath.Join(dir, "out.*.2*")); tc.wantArchived && len(archived) < 2 {
				t.Fatalf("the earlier run was not archived: %v", files)
			}
			for _, f := range files {
				if fi, err := os.Lstat(f); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v (%v), want 0600", filepath.Base(f), fi.Mode().Perm(), err)
				}
			}
		})
	}
}

// A symlink where the run writes is refused before any call: exit 2, a
// message naming the path and saying it is a symlink, and the link's target
// untouched (not written, not created).
func TestE2E_SymlinkRefused(t *testing.T) {
	tests := []struct {
		name, link string
		args       []string
		target     *string // content of the target before the run; nil: absent
	}{
		{name: "report links to an empty file", link: "out.report.ndjson", target: new(string)},
		{name: "report is a dangling link", link: "out.report.ndjson"},
		{name: "dangling checkpoint link", link: "out.checkpoint"},
		{name: "dangling --checkpoint link", link: "elsewhere.checkpoint", args: []string{"--checkpoint", "elsewhere.checkpoint"}},
		{name: "checkpoint links to a file, --restart", link: "out.checkpoint", args: []string{"--restart"}, target: new(string)},
		{name: "dangling timeline link", link: "out.checkpoint.timeline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := startFake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			writeUsers(t, dir, 3)
			target := filepath.Join(t.TempDir(), "target")
			if tc.target != nil {
				write(t, target, *tc.target)
			}
			if err := os.Symlink(target, filepath.Join(dir, tc.link)); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"disable", "--user-pool-id", pool, "--input", "users.csv", "--report", "out.report.ndjson"}, tc.args...)
			out, err := command(t, dir, url, args...).CombinedOutput()
			if code := exitCode(err); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
			if !strings.Contains(string(out), tc.link) || !strings.Contains(string(out), "is a symlink") {
				t.Errorf("the message does not name %s as a symlink:\n%s", tc.link, out)
			}
			data, rerr := os.ReadFile(target)
			switch {
			case tc.target == nil && !errors.Is(rerr, os.ErrNotExist):
				t.Errorf("the dangling link's target was created (%v)", rerr)
			case tc.target != nil && (rerr != nil || string(data) != *tc.target):
				t.Errorf("the link's target changed: %q, %v", data, rerr)
			}
			if fi, err := os.Lstat(filepath.Join(dir, tc.link)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link itself was moved or replaced (%v)", err)
			}
			for i := 1; i <= 3; i++ {
				if u, _ := srv.User(pool, name(i)); u.Disabled {
					t.Errorf("%s was disabled: a call was made", name(i))
				}
			}
		})
	}
}

func mustRun(t *testing.T, dir, url, input string) {
	t.Helper()
	out, err := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", input, "--report", "out.report.ndjson").CombinedOutput()
	if err != nil {
		t.Fatalf("run on %s: exit %d\n%s", input, exitCode(err), out)
	}
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// widen makes path 0644, as a cp, an older tool or a umask of 022 leaves it.
func widen(t *testing.T, path string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
