package emulator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
)

// motoWriters is how many setup calls run at once against moto: it serves
// about 300 calls/s on one core whatever the concurrency; a few in flight
// keep it busy.
const motoWriters = 8

// Moto is a running moto_server. Its state is in memory, per region.
type Moto struct {
	*Cognito
	proc *process
}

// StartMoto starts moto_server on a free 127.0.0.1 port, waits until it
// answers and stops it when t ends. It fails the test if moto_server is not
// installed.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	m, err := LaunchMoto(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, m.proc)
	return m
}

// LaunchMoto is StartMoto for a program (scripts/bench): the caller stops
// moto with Stop.
func LaunchMoto(ctx context.Context) (*Moto, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf(`moto_server not found on PATH (%v): install it with pip install "moto[server]"; integration tests need it`, err)
	}
	p, err := startProcess(ctx, procSpec{
		name: "moto_server",
		path: path,
		args: func(port int) []string { return []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)} },
		// Python buffers a piped stdout; the start-up line must arrive.
		env:       func(int) []string { return []string{"PYTHONUNBUFFERED=1"} },
		readyPath: "/moto-api/data.json",
	})
	if err != nil {
		return nil, err
	}
	return &Moto{Cognito: newCognito(p.url(), motoWriters), proc: p}, nil
}

// Stop kills moto_server and waits until it is gone.
func (m *Moto) Stop() error { return m.proc.stop() }

// Reset wipes all of moto's state (POST /moto-api/reset).
func (m *Moto) Reset(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/moto-api/reset", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset moto: HTTP %d", resp.StatusCode)
	}
}
