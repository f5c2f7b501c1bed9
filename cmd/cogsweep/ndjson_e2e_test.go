package main_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
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
