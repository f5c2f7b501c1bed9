package main_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// hangingEndpoint accepts connections and never answers.
func hangingEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// An endpoint that accepts and never answers ends the run with exit 4 once
// the pre-flight's one deadline has passed (here 2 s, by flag or variable),
// not after 1 STS and 8 DescribeUserPool attempts of 10 s each (106 s).
func TestE2E_PreflightDeadline_HangingEndpoint(t *testing.T) {
	const deadline = 2 * time.Second
	for _, tc := range []struct {
		name string
		flag bool
	}{
		{name: "flag", flag: true},
		{name: "COGSWEEP_PREFLIGHT_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := hangingEndpoint(t)
			dir := t.TempDir()
			writeUsers(t, dir, 3)
			args := []string{"disable", "--user-pool-id", pool, "--input", "users.csv"}
			if tc.flag {
				args = append(args, "--preflight-timeout", deadline.String())
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*deadline)
			defer cancel()
			cmd := command(t, dir, url, args...)
			cmd = rebind(ctx, cmd)
			if !tc.flag {
				cmd.Env = append(cmd.Env, "COGSWEEP_PREFLIGHT_TIMEOUT="+deadline.String())
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after 3 x the pre-flight deadline (%s): killed\n%s", 3*deadline, out.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 4 {
				t.Fatalf("exit %v, want 4\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "--preflight-timeout") {
				t.Errorf("the message does not name --preflight-timeout:\n%s", out.String())
			}
			if strings.Contains(out.String(), "serves no STS") {
				t.Errorf("a hanging endpoint was taken for an emulator without STS:\n%s", out.String())
			}
		})
	}
}

// rebind gives cmd a context that kills it when ctx ends.
func rebind(ctx context.Context, cmd *exec.Cmd) *exec.Cmd {
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir, c.Env = cmd.Dir, cmd.Env
	return c
}
