package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// --user-pool-id naming a pool of another region than the run's cannot
// succeed for any row that relies on it: a usage error before any call
// (exit 2), not a finished run with every row invalid.
func TestRun_PoolOfAnotherRegionIsAUsageError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    string // AWS_REGION
		source string // named in the message
	}{
		{name: "--region", args: []string{"--region", "eu-west-1"}, env: "us-east-1", source: "--region"},
		{name: "AWS_REGION", env: "eu-west-1", source: "AWS_REGION"},
		{name: "dry run", args: []string{"--region", "eu-west-1", "--dry-run"}, env: "us-east-1", source: "--region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t)
			t.Setenv("AWS_REGION", tc.env)
			srv, url := fake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
			args := append([]string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off"}, tc.args...)
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.code, ExitUsage, res.stderr)
			}
			for _, want := range []string{testPool, "eu-west-1", tc.source} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("the message does not name %s:\n%s", want, res.stderr)
				}
			}
			if calls := srv.Stats().Calls; len(calls) != 0 {
				t.Errorf("calls made: %v", calls)
			}
		})
	}
}

// silentListener accepts connections and never answers: an endpoint that
// hangs. It is closed when t ends.
func silentListener(t *testing.T) string {
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
			conns = append(conns, c) // held open, never read
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

// refusedURL is an address where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// With --endpoint-url and no STS endpoint of its own, the pre-flight asks
// STS at the same URL. An emulator without STS answers (404, an unknown
// operation): the caller is unchecked and the run goes on. An endpoint that
// does not answer at all (refused, timed out) is not that: the run stops
// (exit 4) saying the endpoint does not answer.
func TestPreflight_STSNotAnsweringIsNotAnEmulatorWithoutSTS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint func(t *testing.T, fake string) string
		want     int
		wantLog  string
	}{
		{name: "emulator without STS", endpoint: func(t *testing.T, fake string) string { return withoutSTS(t, fake) },
			want: ExitOK, wantLog: "serves no STS"},
		{name: "connection refused", endpoint: func(t *testing.T, _ string) string { return refusedURL(t) },
			want: ExitAborted, wantLog: "did not answer"},
		{name: "accepts and never answers", endpoint: func(t *testing.T, _ string) string { return silentListener(t) },
			want: ExitAborted, wantLog: "did not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t)
			_, url := fake(t, fakecognito.Options{}, 3)
			os.Unsetenv("AWS_ENDPOINT_URL_STS") // fake set it; t.Setenv restores it
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
			res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in,
				"--endpoint-url", tc.endpoint(t, url), "--progress", "off", "--call-timeout", "300ms", "--read-rate", "1000")
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.wantLog) {
				t.Errorf("stderr does not say %q:\n%s", tc.wantLog, res.stderr)
			}
			if tc.want != ExitOK && strings.Contains(res.stderr, "serves no STS") {
				t.Errorf("a network failure was taken for an emulator without STS:\n%s", res.stderr)
			}
		})
	}
}

// withoutSTS serves the fake's Cognito at a URL whose STS requests (no
// X-Amz-Target: STS speaks the query protocol) get a 404, as from an
// emulator that does not implement STS (cognito-local).
func withoutSTS(t *testing.T, fake string) string {
	t.Helper()
	target, err := neturl.Parse(fake)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"unknown operation"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// The pre-flight has one deadline: an endpoint that accepts and never
// answers stops the run (exit 4) once --preflight-timeout has passed, not
// after one STS attempt and 8 DescribeUserPool attempts of --call-timeout
// each.
func TestPreflight_OneDeadline(t *testing.T) {
	awsEnv(t)
	const deadline = time.Second
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
	hang := silentListener(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", "") // STS at the endpoint, which hangs too
	ctx, cancel := context.WithTimeout(t.Context(), 3*deadline)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- cogsweep(ctx, t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", hang,
			"--progress", "off", "--preflight-timeout", deadline.String())
	}()
	select {
	case res := <-done:
		if res.code != ExitAborted {
			t.Fatalf("exit %d, want %d\n%s", res.code, ExitAborted, res.stderr)
		}
		if !strings.Contains(res.stderr, "--preflight-timeout") {
			t.Errorf("the message does not name --preflight-timeout:\n%s", res.stderr)
		}
	case <-ctx.Done():
		t.Fatalf("the run did not end within 3 x --preflight-timeout %s", deadline)
	}
}
