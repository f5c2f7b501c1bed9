package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// TestE2E_BackupSurvivesSIGKILL kills the process while a delete is in
// flight, between the user's backup line and its AdminDeleteUser answer,
// and lets that delete reach the service anyway (a crash after sending). No
// deleted user may be missing from the backup, and the resumed run
// completes it.
func TestE2E_BackupSurvivesSIGKILL(t *testing.T) {
	const n = 40
	srv := fakecognito.New(fakecognito.Options{})
	if err := srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := srv.AddUser(pool, fakecognito.User{Username: name(i), Email: fmt.Sprintf("p%d@example.com", i), Groups: []string{"staff"}}); err != nil {
			t.Fatal(err)
		}
	}
	// The 12th delete is held until the test lets it through.
	arrived := make(chan string, 1)
	release := make(chan struct{})
	var mu sync.Mutex
	deletes := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".AdminDeleteUser") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			mu.Lock()
			deletes++
			hold := deletes == 12
			mu.Unlock()
			if hold {
				var req struct{ Username string }
				_ = json.Unmarshal(body, &req)
				arrived <- req.Username
				<-release
				// The request reached the service before the client died.
				r = r.WithContext(context.Background())
			}
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("username\n")
	for i := 1; i <= n; i++ {
		in.WriteString(name(i) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "purge.csv"), []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(dir, "deleted-users.ndjson")
	args := []string{"delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1", "--input", "purge.csv",
		"--backup", bk, "--concurrency", "4", "--rate", "1000", "--read-rate", "1000"}

	cmd := command(t, dir, hs.URL, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var held string
	select {
	case held = <-arrived:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the 12th delete never came\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// Killed between the backup line and the delete's answer: the line is
	// there already.
	if !hasLine(t, bk, held) {
		t.Fatalf("%s's delete was sent, but its backup line is missing", held)
	}
	close(release)

	cmd = command(t, dir, hs.URL, args...)
	if o, err := cmd.CombinedOutput(); exitCode(err) != 0 {
		t.Fatalf("resume: exit %d\n%s", exitCode(err), o)
	}
	lines := readBackupLines(t, bk)
	got := map[string]backup.Line{}
	for _, l := range lines {
		got[l.Username] = l
	}
	for i := 1; i <= n; i++ {
		if _, exists := srv.User(pool, name(i)); exists {
			t.Fatalf("%s not deleted after the resume", name(i))
		}
		l, ok := got[name(i)]
		if !ok {
			t.Fatalf("%s deleted without a backup line", name(i))
		}
		if l.Attributes["email"] != fmt.Sprintf("p%d@example.com", i) || len(l.Groups) != 1 || l.Groups[0] != "staff" {
			t.Fatalf("backup of %s: %+v", name(i), l)
		}
	}
	// Rows in flight at the kill are backed up again by the resume: at most
	// the concurrency's worth of repeated lines.
	if len(lines) > n+4 {
		t.Fatalf("%d backup lines for %d users", len(lines), n)
	}
}

func readBackupLines(t *testing.T, path string) []backup.Line {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []backup.Line
	for _, s := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var l backup.Line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("backup line %q: %v", s, err)
		}
		out = append(out, l)
	}
	return out
}

func hasLine(t *testing.T, path, username string) bool {
	for _, l := range readBackupLines(t, path) {
		if l.Username == username {
			return true
		}
	}
	return false
}
