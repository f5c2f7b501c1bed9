package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const (
	// startTimeout bounds how long an emulator may take to answer. moto
	// starts in about a second; the margin is for a loaded 2-core CI box.
	startTimeout = 30 * time.Second
	// portAttempts is how many free ports are tried: the port is free when
	// picked but another process may take it before the child binds it.
	portAttempts = 3
	// pollInterval is how often readiness is checked while starting.
	pollInterval = 50 * time.Millisecond
	// stopTimeout bounds the wait for a killed child to be reaped.
	stopTimeout = 10 * time.Second
	// maxOutput is how much of a child's output is kept for error messages.
	maxOutput = 16 << 10
)

// errPortInUse means the child could not bind its port: try another.
var errPortInUse = errors.New("port already in use")

// procSpec says how to run one emulator.
type procSpec struct {
	name string // for messages, e.g. "moto_server"
	path string
	args func(port int) []string
	// env is added to the parent's environment (later entries win).
	env func(port int) []string
	dir string
	// readyPath is polled with GET until it answers 200.
	readyPath string
}

// process is a running emulator. Its output is captured for diagnostics.
type process struct {
	name string
	port int
	cmd  *exec.Cmd
	out  *outputLog
	done chan struct{} // closed when the child has been reaped
	err  error         // cmd.Wait's result, valid after done
}

// startProcess runs spec on a free 127.0.0.1 port and returns once the child
// has said it listens on that port and answers HTTP. On a port collision it
// retries with another port.
func startProcess(ctx context.Context, spec procSpec) (*process, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var lastErr error
	for range portAttempts {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		p, err := launch(spec, port)
		if err != nil {
			return nil, err
		}
		err = p.waitReady(ctx, spec.readyPath)
		if err == nil {
			return p, nil
		}
		p.stop()
		if !errors.Is(err, errPortInUse) {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("start %s after %d ports: %w", spec.name, portAttempts, lastErr)
}

// freePort returns a port that was free a moment ago. Closing the listener
// before the child binds leaves a small window for a collision, which
// startProcess handles by retrying.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}

func launch(spec procSpec, port int) (*process, error) {
	cmd := exec.Command(spec.path, spec.args(port)...)
	cmd.Dir = spec.dir
	cmd.Env = os.Environ()
	if spec.env != nil {
		cmd.Env = append(cmd.Env, spec.env(port)...)
	}
	// Both emulators print their listening address once the port is bound.
	// Waiting for it, and not only for an HTTP answer, makes sure the
	// answer comes from our child and not from whoever took the port.
	out := newOutputLog("127.0.0.1:" + strconv.Itoa(port))
	cmd.Stdout = out
	cmd.Stderr = out
	// A grandchild holding the output pipe must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	setProcAttrs(cmd)
	p := &process{name: spec.name, port: port, cmd: cmd, out: out, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Linux's parent-death signal fires when the thread that started
		// the child exits, not the process: keep this goroutine on its own
		// thread until the child is gone. Never unlocked, so the thread
		// ends with the goroutine, after the child.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	return p, nil
}

// url is the child's base URL, without a trailing slash.
func (p *process) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *process) waitReady(ctx context.Context, path string) error {
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			if p.out.contains("address already in use", "eaddrinuse") {
				return fmt.Errorf("%s on port %d: %w", p.name, p.port, errPortInUse)
			}
			return fmt.Errorf("%s exited before it was ready (%v); output:\n%s", p.name, p.err, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready on port %d: %w; output:\n%s", p.name, p.port, ctx.Err(), p.out.String())
		case <-tick.C:
			if p.out.seen() && answers(ctx, client, p.url()+path) {
				return nil
			}
		}
	}
}

func answers(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop kills the child and everything it started, and waits for it. Safe to
// call more than once.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	killTree(p.cmd)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("%s (pid %d) still running %v after kill", p.name, p.cmd.Process.Pid, stopTimeout)
	}
}

// outputLog keeps the tail of a child's output and notices when a marker
// string has appeared in it.
type outputLog struct {
	mu     sync.Mutex
	buf    []byte
	marker []byte
	found  bool
}

func newOutputLog(marker string) *outputLog { return &outputLog{marker: []byte(marker)} }

func (o *outputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.found {
		// The marker may straddle two writes: search the old tail too.
		keep := min(len(o.buf), len(o.marker)-1)
		window := append(bytes.Clone(o.buf[len(o.buf)-keep:]), p...)
		o.found = bytes.Contains(window, o.marker)
	}
	o.buf = append(o.buf, p...)
	if len(o.buf) > maxOutput {
		o.buf = o.buf[len(o.buf)-maxOutput:]
	}
	return len(p), nil
}

func (o *outputLog) seen() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.found
}

// contains reports whether the kept output contains any of subs, ignoring
// case.
func (o *outputLog) contains(subs ...string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	lower := bytes.ToLower(o.buf)
	for _, s := range subs {
		if bytes.Contains(lower, []byte(s)) {
			return true
		}
	}
	return false
}

func (o *outputLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}
