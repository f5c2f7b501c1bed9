package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// tmux finds tmux. It may be missing only outside CI: .ci/run sets
// COGSWEEP_REQUIRE_TMUX=1 and installs it.
func tmux(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("tmux"); err == nil {
		return p
	}
	if os.Getenv("COGSWEEP_REQUIRE_TMUX") != "" || os.Getenv("CI") != "" {
		t.Fatal("tmux is required here (apt-get install -y tmux)")
	}
	t.Skip("no tmux on PATH (apt-get install -y tmux); CI runs this test")
	return ""
}

// A run at a terminal of each size: every line the pane holds, wrapped
// lines joined again, fits the width (the bar, the audit and starting
// lines), the bar left exactly one line behind, its final frame, and no
// running frame survives above it.
func TestE2E_Terminal_BarFitsAndEndsOnAFinalFrame(t *testing.T) {
	bin := tmux(t)
	for _, tc := range []struct {
		name          string
		width, height int
	}{
		{name: "80x24", width: 80, height: 24},
		{name: "200x50", width: 200, height: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 240
			_, url := startFake(t, fakecognito.Options{Seed: 5, Latency: 20 * time.Millisecond}, n)
			dir := t.TempDir()
			writeUsers(t, dir, n)
			// 240 reads and 240 writes at 60/s each: four seconds, four frames.
			args := []string{"disable", "--user-pool-id", pool, "--input", "users.csv",
				"--rate", "60", "--read-rate", "60", "--concurrency", "4", "--endpoint-url", url}
			var running []string // frames seen while the run went on
			pane := runInTmux(t, bin, dir, tc.width, tc.height, args, func(pane []string) {
				for _, l := range pane {
					if frame.MatchString(l) && strings.Contains(l, "ETA") && (len(running) == 0 || running[len(running)-1] != l) {
						running = append(running, l)
					}
				}
			})
			if len(running) == 0 {
				t.Error("no running frame (with an ETA) was seen while the run went on")
			}
			for _, l := range running {
				if len(l) > tc.width || !strings.Contains(l, "elapsed") {
					t.Errorf("running frame %q: want at most %d columns, with the elapsed time", l, tc.width)
				}
			}
			var bars []string
			for i, l := range pane {
				if len(l) > tc.width {
					t.Errorf("line %d is %d columns wide on a %d-column terminal: %q", i, len(l), tc.width, l)
				}
				if frame.MatchString(l) {
					bars = append(bars, l)
				}
			}
			if len(bars) != 1 || !strings.Contains(bars[0], fmt.Sprintf("100%% %d/%d", n, n)) || !strings.Contains(bars[0], "done in") {
				t.Errorf("bar lines %q: want one, the final frame (100%% %d/%d ... done in)", bars, n, n)
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("running frames seen: %q\npane at the end:\n%s", running, strings.Join(pane, "\n"))
			}
		})
	}
}

// frame matches a line of the bar, running or final: "45% 108/240".
var frame = regexp.MustCompile(`\d+% \d+/\d+`)

// runInTmux runs the binary with args in a detached tmux session of the
// given size, shows the pane to during while it runs, waits for it to exit
// 0, and returns the pane's lines, scrollback included, with wrapped lines
// joined.
func runInTmux(t *testing.T, bin, dir string, width, height int, args []string, during func([]string)) []string {
	t.Helper()
	sock := filepath.Join(dir, "tmux.sock")
	exitFile := filepath.Join(dir, "exit")
	var q []string
	for _, a := range append([]string{binary}, args...) {
		q = append(q, "'"+a+"'")
	}
	// The environment of command(): the session's shell gets the tmux
	// server's, which is the test's, so the script sets it.
	script := "cd '" + dir + "'\n" +
		"export AWS_ACCESS_KEY_ID=AKIDE2E AWS_SECRET_ACCESS_KEY=e2e-secret AWS_REGION=us-east-1\n" +
		"export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent\n" +
		"export HOME='" + dir + "' TMPDIR='" + dir + "' AWS_ENDPOINT_URL_STS='" + args[len(args)-1] + "'\n" +
		strings.Join(q, " ") + "\n" +
		"echo $? > '" + exitFile + "'\n" +
		"read -r _\n" // keeps the pane until the test kills the server
	if err := os.WriteFile(filepath.Join(dir, "run.sh"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	tm := func(a ...string) []byte {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"-S", sock, "-f", "/dev/null"}, a...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(a, " "), err, out)
		}
		return out
	}
	tm("new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), "sh "+filepath.Join(dir, "run.sh"))
	t.Cleanup(func() { exec.Command(bin, "-S", sock, "kill-server").Run() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(b) > 0 {
			if code := strings.TrimSpace(string(b)); code != "0" {
				t.Errorf("exit %s, want 0", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end before the deadline; pane:\n%s", tm("capture-pane", "-p", "-J", "-t", "e2e"))
		}
		during(capture(tm))
		time.Sleep(100 * time.Millisecond) // polling a file the session writes: no channel reaches into tmux
	}
	return capture(tm)
}

// capture is the pane's lines, scrollback included, wrapped lines joined.
func capture(tm func(...string) []byte) []string {
	out := string(tm("capture-pane", "-p", "-J", "-S", "-", "-t", "e2e"))
	pane := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range pane {
		pane[i] = strings.TrimRight(l, " ") // -J keeps the blanks an erase-to-end left
	}
	return pane
}
