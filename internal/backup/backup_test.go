package backup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/cognito"
)

func readLines(t *testing.T, path string) []Line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func TestWriter_SaveConcurrently_EveryLineWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.ndjson")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				row := g*each + i + 1
				u := cognito.User{Username: fmt.Sprintf("user%04d", row), Enabled: true, Status: "CONFIRMED",
					Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Attributes: map[string]string{"email": "u@example.com"}}
				if err := w.Save(row, "us-east-1_AAA111", u, []string{"staff"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	seen := map[int]bool{}
	for _, l := range lines {
		if l.Username != fmt.Sprintf("user%04d", l.Row) || l.Groups[0] != "staff" || l.Attributes["email"] != "u@example.com" ||
			!l.Created.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || l.BackedUpAt.IsZero() {
			t.Fatalf("line %+v", l)
		}
		seen[l.Row] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct rows", len(seen))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string) string
		wantErr error
		want    int // lines after one more Save
	}{
		{name: "new file", setup: func(t *testing.T, p string) string { return p }, want: 1},
		{name: "s3 refused", setup: func(t *testing.T, p string) string { return "s3://bucket/backup.ndjson" }, wantErr: ErrRemote},
		{name: "appends to an earlier run's lines", setup: func(t *testing.T, p string) string {
			if err := os.WriteFile(p, []byte(`{"row":1,"username":"a"}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, want: 2},
		{name: "torn last line cut off", setup: func(t *testing.T, p string) string {
			if err := os.WriteFile(p, []byte(`{"row":1,"username":"a"}`+"\n"+`{"row":2,"user`), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, want: 2},
		{name: "symlink refused, its target not created", setup: func(t *testing.T, p string) string {
			target := p + ".target"
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the link's target was created: %v", err)
				}
			})
			return p
		}, wantErr: syscall.ELOOP},
		{name: "wider mode tightened", setup: func(t *testing.T, p string) string {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t, filepath.Join(t.TempDir(), "backup.ndjson"))
			w, err := Open(path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Save(9, "us-east-1_AAA111", cognito.User{Username: "zed"}, nil); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, path)
			if len(lines) != tc.want || lines[len(lines)-1].Username != "zed" {
				t.Fatalf("lines %+v", lines)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v", fi.Mode().Perm())
			}
		})
	}
}

func TestWriter_SaveAfterClose(t *testing.T) {
	w, err := Open(filepath.Join(t.TempDir(), "b.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := w.Save(1, "p_1", cognito.User{Username: "a"}, nil); err == nil {
		t.Fatal("Save after Close succeeded")
	}
}
