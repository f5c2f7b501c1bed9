package main_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// An NDJSON input with no newline never ends: the pre-pass reads it until a
// signal, and then the run exits 75 promptly instead of reading forever.
func TestE2E_NDJSONWithNoNewline_StopsOnSignal(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{name: "SIGTERM", sig: syscall.SIGTERM},
		{name: "SIGINT", sig: syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startFake(t, fakecognito.Options{}, 0)
			dir := t.TempDir()
			cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "/dev/zero", "--format", "ndjson")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					<-done
				}
			})
			// 32 MiB read: the pre-pass is well past its signal handler's
			// setup and deep in the line.
			waitFor(t, func() bool { return bytesRead(t, cmd.Process.Pid) >= 32<<20 })
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if code := exitCode(err); code != 75 {
					t.Fatalf("exit %d after %s, want 75\n%s", code, tc.name, out.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("still reading 20 s after %s\n%s", tc.name, out.String())
			}
			if !strings.Contains(out.String(), "interrupted") {
				t.Errorf("output does not say the run was interrupted:\n%s", out.String())
			}
		})
	}
}

// bytesRead is what the process has read so far (Linux's /proc/PID/io); 0
// while it cannot be read.
func bytesRead(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// A bad first NDJSON line is one invalid row: the lines after it are acted
// on, and only an input where no valid line carries a key column exits 2.
func TestE2E_NDJSONBadFirstLine(t *testing.T) {
	good := fmt.Sprintf(`{"username":%q}`+"\n"+`{"username":%q}`+"\n", name(1), name(2))
	for _, tc := range []struct {
		name  string
		first string
	}{
		{name: "not JSON", first: "not json"},
		{name: "username a number", first: `{"username":7}`},
		{name: "no known key", first: `{"note":"x"}`},
		{name: "a 2 MB line", first: `{"username":"` + strings.Repeat("x", 2<<20) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := startFake(t, fakecognito.Options{}, 2)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "users.ndjson"), tc.first+"\n"+good)
			cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "users.ndjson")
			out, err := cmd.CombinedOutput()
			if code := exitCode(err); code != 3 {
				t.Fatalf("exit %d, want 3 (one invalid row)\n%s", code, out)
			}
			recs := lines(t, filepath.Join(dir, "users.disable.report.ndjson"))
			if len(recs) != 3 || recs[1].Outcome != report.Invalid || recs[2].Outcome != report.Disabled || recs[3].Outcome != report.Disabled {
				t.Fatalf("report %+v, want row 1 invalid and rows 2-3 disabled", recs)
			}
			for i := 1; i <= 2; i++ {
				if u, _ := srv.User(pool, name(i)); !u.Disabled {
					t.Errorf("%s not disabled", name(i))
				}
			}
		})
	}
	t.Run("no valid line has a username", func(t *testing.T) {
		_, url := startFake(t, fakecognito.Options{}, 2)
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "users.ndjson"), `{"username":7}`+"\nnot json\n"+`{"note":"x"}`+"\n")
		cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "users.ndjson")
		if out, err := cmd.CombinedOutput(); exitCode(err) != 2 || !strings.Contains(string(out), "no username column") {
			t.Fatalf("exit %d, want 2 naming the missing column\n%s", exitCode(err), out)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A delete of {"username":"u1","username":"u2"} would act on a guess: the
// row is invalid, naming the key, and neither user is deleted; the same
// value repeated is fine.
func TestE2E_NDJSONRepeatedKey(t *testing.T) {
	srv, url := startFake(t, fakecognito.Options{}, 4)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "users.ndjson"),
		fmt.Sprintf(`{"username":%q,"username":%q}`+"\n", name(1), name(2))+
			fmt.Sprintf(`{"cognito:username":%q,"username":%q}`+"\n", name(3), name(3)))
	cmd := command(t, dir, url, "delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "users.ndjson")
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 3 {
		t.Fatalf("exit %d, want 3 (one invalid row)\n%s", code, out)
	}
	recs := lines(t, filepath.Join(dir, "users.delete.report.ndjson"))
	if r := recs[1]; r.Outcome != report.Invalid || !strings.Contains(r.Message, `key "username" twice`) {
		t.Errorf("row 1 = %+v, want invalid naming the repeated key", r)
	}
	if r := recs[2]; r.Outcome != report.Deleted {
		t.Errorf("row 2 = %+v, want deleted (the same value twice)", r)
	}
	for i, want := range map[int]bool{1: true, 2: true, 3: false, 4: true} {
		if _, ok := srv.User(pool, name(i)); ok != want {
			t.Errorf("%s in the pool: %v, want %v", name(i), ok, want)
		}
	}
}
