package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as a fake emulator: with helperEnv set it runs the
// named mode instead of the tests.
const helperEnv = "EMULATOR_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(mode string) int {
	switch mode {
	case "serve":
		return serve(true)
	case "serve-silently":
		// Answers HTTP but never says it listens, like a foreign server
		// that took the port.
		return serve(false)
	case "exit":
		fmt.Fprintln(os.Stderr, "ImportError: no module named werkzeug")
		return 3
	case "in-use-once":
		// Fails like a port collision on its first run only.
		state := os.Getenv("STATE_FILE")
		if _, err := os.Stat(state); errors.Is(err, os.ErrNotExist) {
			_ = os.WriteFile(state, nil, 0o644)
			fmt.Fprintln(os.Stderr, "OSError: [Errno 98] Address already in use")
			return 1
		}
		return serve(true)
	case "in-use":
		fmt.Fprintln(os.Stderr, "Error: listen EADDRINUSE: address already in use")
		return 1
	case "serve-with-child":
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), helperEnv+"=block")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_ = os.WriteFile(os.Getenv("PID_FILE"), []byte(strconv.Itoa(child.Process.Pid)), 0o644)
		return serve(true)
	case "block":
		select {}
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

func serve(announce bool) int {
	addr := "127.0.0.1:" + os.Getenv("PORT")
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if announce {
		// Split across writes, as a logger may do.
		fmt.Print("Running on http://127.0.")
		fmt.Println("0.1:" + os.Getenv("PORT"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	_ = http.Serve(l, mux)
	return 1
}

func helperSpec(mode string, extraEnv ...string) procSpec {
	return procSpec{
		name: "helper-" + mode,
		path: os.Args[0],
		args: func(int) []string { return nil },
		env: func(port int) []string {
			return append([]string{helperEnv + "=" + mode, "PORT=" + strconv.Itoa(port)}, extraEnv...)
		},
		readyPath: "/ready",
	}
}

func TestStartProcess(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		spec    procSpec
		timeout time.Duration
		wantErr string // empty: starts
	}{
		{name: "serves", spec: helperSpec("serve"), timeout: 20 * time.Second},
		{name: "retries a port collision", timeout: 20 * time.Second,
			spec: helperSpec("in-use-once", "STATE_FILE="+filepath.Join(dir, "state"))},
		{name: "gives up after repeated collisions", spec: helperSpec("in-use"), timeout: 20 * time.Second,
			wantErr: "after 3 ports: helper-in-use on port"},
		{name: "exits early", spec: helperSpec("exit"), timeout: 20 * time.Second,
			wantErr: "no module named werkzeug"},
		// A timeout that cannot be reached otherwise: the answer alone is
		// not enough without the start-up line.
		{name: "answers without announcing", spec: helperSpec("serve-silently"), timeout: time.Second,
			wantErr: "not ready on port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			p, err := startProcess(ctx, tt.spec)
			if tt.wantErr != "" {
				if err == nil {
					p.stop()
					t.Fatalf("startProcess succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("startProcess: %v", err)
			}
			resp, err := http.Get(p.url() + "/ready")
			if err != nil {
				t.Fatalf("GET after start: %v", err)
			}
			resp.Body.Close()
			if err := p.stop(); err != nil {
				t.Fatal(err)
			}
			if err := p.stop(); err != nil {
				t.Fatalf("second stop: %v", err)
			}
		})
	}
}

func TestOutputLog_Marker(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   bool
	}{
		{name: "one write", writes: []string{"Running on http://127.0.0.1:5055\n"}, want: true},
		{name: "split", writes: []string{"Running on http://127.0", ".0.1:50", "55\n"}, want: true},
		{name: "other port", writes: []string{"Running on http://127.0.0.1:5056\n"}},
		{name: "nothing", writes: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutputLog("127.0.0.1:5055")
			for _, w := range tt.writes {
				if _, err := o.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			if got := o.seen(); got != tt.want {
				t.Errorf("seen = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutputLog_KeepsTail(t *testing.T) {
	o := newOutputLog("marker")
	big := strings.Repeat("x", maxOutput)
	_, _ = o.Write([]byte("head\n"))
	_, _ = o.Write([]byte(big))
	_, _ = o.Write([]byte("tail\n"))
	s := o.String()
	if len(s) != maxOutput || !strings.HasSuffix(s, "tail\n") || strings.Contains(s, "head") {
		t.Errorf("kept %d bytes ending %q, want the last %d", len(s), s[len(s)-5:], maxOutput)
	}
}
