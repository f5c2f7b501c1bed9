package main

// Fakes and child processes: what every row of the benchmark runs on.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

const region = "us-east-1"

// served is an in-process fake Cognito on a loopback port.
type served struct {
	*fakecognito.Server
	url  string
	pool string
	hs   *http.Server
}

// serveFake starts a fake with opts and a pool holding users.
func serveFake(opts fakecognito.Options, pool string, users []string) (*served, error) {
	f := fakecognito.New(opts)
	if err := f.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		return nil, err
	}
	for _, u := range users {
		if err := f.AddUser(pool, fakecognito.User{Username: u}); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return &served{Server: f, url: "http://" + ln.Addr().String(), pool: pool, hs: hs}, nil
}

func (s *served) Close() { s.hs.Close() }

// names returns n usernames.
func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%07d", prefix, i+1)
	}
	return out
}

// writeInputs writes users as a CSV for cogsweep and a plain list for the
// peer, under dir.
func writeInputs(dir string, users []string) (csv, list string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	csv, list = filepath.Join(dir, "users.csv"), filepath.Join(dir, "users.txt")
	body := "username\n" + strings.Join(users, "\n") + "\n"
	if err := os.WriteFile(csv, []byte(body), 0o644); err != nil {
		return "", "", err
	}
	return csv, list, os.WriteFile(list, []byte(strings.Join(users, "\n")+"\n"), 0o644)
}

// childEnv is the environment of every child: static fake credentials, no
// profile or config file of the host (real credentials must never be used).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "COGSWEEP_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
}

// proc is a finished child process.
type proc struct {
	wall   time.Duration
	maxRSS int64 // KiB
	stdout []byte
}

// start runs name in dir; started is called right after the process
// started (to start production traffic at the same moment).
func runProc(ctx context.Context, dir, name string, args []string, started func()) (proc, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv()
	var stdout strings.Builder
	logf, err := os.Create(filepath.Join(dir, filepath.Base(name)+".log"))
	if err != nil {
		return proc{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = &stdout, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, err
	}
	if started != nil {
		started()
	}
	err = cmd.Wait()
	p := proc{wall: time.Since(t0), stdout: []byte(stdout.String())}
	p.maxRSS = maxRSS(cmd.ProcessState)
	if err != nil {
		tail, _ := os.ReadFile(logf.Name())
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return p, fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), tail)
	}
	return p, nil
}

// cogsweepDelete is the delete command every row runs.
func cogsweepDelete(pool, input, endpoint string, extra ...string) []string {
	args := []string{"delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", input, "--progress", "log", "--log-format", "json", "--summary", "summary.json"}
	if endpoint != "" {
		args = append(args, "--endpoint-url", endpoint)
	}
	return append(args, extra...)
}
