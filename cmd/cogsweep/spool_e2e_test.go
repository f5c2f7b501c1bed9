package main_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// spoolOf returns the size of the file the process holds open in tmp (the
// stdin spool), polling /proc: it is found by its descriptor whether or not
// it still has a name.
func spoolOf(t *testing.T, pid int, tmp string) int64 {
	t.Helper()
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		link := fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())
		if target, err := os.Readlink(link); err == nil && strings.HasPrefix(target, tmp+string(filepath.Separator)) {
			if fi, err := os.Stat(link); err == nil {
				return fi.Size()
			}
		}
	}
	return -1
}

// A run reading stdin that is killed (SIGKILL: no clean-up of its own)
// leaves nothing of stdin on disk, and SIGTERM is acted on while stdin is
// still open (exit 75), not when it closes.
func TestE2E_StdinSpool_KillAndTerm(t *testing.T) {
	const token = "eyJraWQiOiJzZWNyZXQtc3Bvb2wtdG9rZW4ifQ"
	_, url := startFake(t, fakecognito.Options{}, 0)
	input := "username,access_token\n" + strings.Repeat("person-00001,"+token+"\n", 200)
	for _, tc := range []struct {
		name     string
		sig      syscall.Signal
		wantCode int
	}{
		{name: "SIGKILL", sig: syscall.SIGKILL, wantCode: -1},
		{name: "SIGTERM", sig: syscall.SIGTERM, wantCode: 75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "-", "--format", "csv")
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(stdin, input); err != nil {
				t.Fatal(err)
			}
			// stdin stays open: the spool has every byte and waits for more.
			waitFor(t, func() bool { return spoolOf(t, cmd.Process.Pid, tmp) == int64(len(input)) })
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if code := exitCode(err); code != tc.wantCode {
					t.Errorf("exit %d, want %d\n%s", code, tc.wantCode, out.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("still running 30 s after %s with stdin open", tc.name)
			}
			for _, d := range []string{tmp, dir} {
				filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
					if err != nil || e.IsDir() {
						return err
					}
					if data, _ := os.ReadFile(path); bytes.Contains(data, []byte(token)) {
						t.Errorf("%s holds the token after %s", path, tc.name)
					}
					return nil
				})
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("TMPDIR holds %s after %s, want nothing", ents[0].Name(), tc.name)
			}
		})
	}
}

// Stdin past --max-stdin-size stops the run before any call, exit 2.
func TestE2E_StdinSpool_Cap(t *testing.T) {
	srv, url := startFake(t, fakecognito.Options{}, 50)
	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("username\n")
	for i := 1; i <= 50; i++ {
		in.WriteString(name(i) + "\n")
	}
	for _, tc := range []struct {
		name     string
		size     string
		wantCode int
	}{
		{name: "past the cap", size: strconv.Itoa(in.Len() - 1), wantCode: 2},
		{name: "at the cap", size: strconv.Itoa(in.Len()), wantCode: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "-", "--format", "csv", "--restart",
				"--max-stdin-size", tc.size)
			cmd.Stdin = strings.NewReader(in.String())
			out, err := cmd.CombinedOutput()
			if code := exitCode(err); code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, out)
			}
			if tc.wantCode == 2 {
				if !strings.Contains(string(out), "--max-stdin-size") {
					t.Errorf("the message does not name --max-stdin-size:\n%s", out)
				}
				if n := srv.Executed("AdminDisableUser"); n != 0 {
					t.Errorf("%d calls made, want none", n)
				}
			}
		})
	}
}
