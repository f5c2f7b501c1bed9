// Command fakecognito serves the wire-level fake Cognito user-pools API on a
// loopback port, for demos, scripts and end-to-end tests of cogsweep.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	addr       string
	seeds      []string
	pools      []string
	quota      float64
	readQuota  float64
	listQuota  float64
	throttle   float64
	errorP     float64
	reset      float64
	resetAfter float64
	latency    time.Duration
	jitter     time.Duration
	randSeed   int64
	urlFile    string
	deny       []string
	production float64
	pattern    fakecognito.Pattern
	burst      int
	applied    float64
	history    history
}

// history is --production-history: production's calls per second over the
// last span, written into the usage metrics CloudWatch serves.
type history struct {
	rate float64
	span time.Duration
}

func parseHistory(v string) (history, error) {
	r, d, ok := strings.Cut(v, ":")
	if !ok {
		return history{}, fmt.Errorf("--production-history %q: want RATE:DURATION, e.g. 20:20m", v)
	}
	var h history
	var err error
	if h.rate, err = strconv.ParseFloat(r, 64); err != nil || h.rate < 0 || math.IsInf(h.rate, 0) || math.IsNaN(h.rate) {
		return history{}, fmt.Errorf("--production-history %q: want a rate of 0 or more before the colon", v)
	}
	if h.span, err = time.ParseDuration(d); err != nil || h.span < time.Minute {
		return history{}, fmt.Errorf("--production-history %q: want a duration of a minute or more after the colon", v)
	}
	return h, nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const usageHead = `fakecognito serves a fake Amazon Cognito user-pools API (awsJson1_1, as the
AWS SDKs speak it) on a loopback port, with optional quotas and faults.

Usage: fakecognito [flags]

Point a client at it with --endpoint-url, BaseEndpoint, or
AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER. Signatures are not checked.
It also answers Service Quotas (GetServiceQuota, GetAWSDefaultServiceQuota,
ListServiceQuotas for cognito-idp) and CloudWatch GetMetricData (AWS/Usage
CallCount and ThrottleCount per category, from its own counters).
Besides the API it serves two helpers:
  GET /_fake/token?pool=ID&username=NAME  an access token for DeleteUser calls
  GET /_fake/stats                        call counters as JSON
It stops cleanly on SIGINT or SIGTERM. Exit codes: 0 stopped, 1 failed, 2 bad flags.

Flags:
`

// parseFlags prints the help to stdout when asked; errors are returned.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fakecognito", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var seeds, pools, deny listFlag
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "`host:port` to listen on; port 0 picks a free one")
	fs.Var(&seeds, "seed", "load users from this CSV `file` (repeatable); columns user_pool_id, username,\nemail, sub, enabled, status, created, modified (RFC 3339), groups (a;b);\npools it names are created")
	fs.Var(&pools, "pool", "create an empty pool with this `id`, e.g. us-east-1_EXAMPLE1 (repeatable)")
	fs.Float64Var(&o.quota, "quota", 0, "UserUpdate quota (AdminDisableUser, AdminDeleteUser, DeleteUser, ...) as a `rate`\nin requests per second, burst the same unless --burst; 0 is unlimited (the real default is 25)")
	fs.Float64Var(&o.readQuota, "read-quota", 0, "UserRead quota (AdminGetUser) as a `rate` per second; 0 is unlimited")
	fs.Float64Var(&o.listQuota, "list-quota", 0, "UserList quota (ListUsers, ListUsersInGroup) as a `rate` per second; 0 is unlimited")
	fs.Float64Var(&o.throttle, "throttle", 0, "`probability` that a call fails with TooManyRequestsException")
	fs.Float64Var(&o.errorP, "error", 0, "`probability` that a call fails with InternalErrorException (HTTP 500)")
	fs.Float64Var(&o.reset, "reset", 0, "`probability` that the connection is reset before the call is done")
	fs.Float64Var(&o.resetAfter, "reset-after", 0, "`probability` that the connection is reset after the call took effect")
	fs.DurationVar(&o.latency, "latency", 0, "`duration` added to every call, e.g. 20ms")
	fs.DurationVar(&o.jitter, "jitter", 0, "random extra latency up to this `duration`")
	fs.Int64Var(&o.randSeed, "rand-seed", 1, "seed for faults, jitter, generated ids and production's random arrivals")
	fs.StringVar(&o.urlFile, "url-file", "", "write the base URL to this `file` once listening (atomically)")
	fs.Var(&deny, "deny", "answer this `operation` with AccessDeniedException, e.g. AdminDeleteUser (repeatable)")
	fs.Float64Var(&o.production, "production", 0, "competing production traffic taking UserUpdate tokens, as a `rate` per second")
	pattern := fs.String("production-pattern", "even", "how production's calls arrive, a `pattern`: even (exactly spaced), poisson (at\nrandom), or bursty (3x the rate for 2 s of every 6 s, at random, nothing between)")
	fs.Float64Var(&o.applied, "applied-quota", 0, "UserUpdate quota Service Quotas reports as applied, a `rate` per second (an account\nthat bought more: give --quota too, which is what is enforced); 0 is the default 25")
	hist := fs.String("production-history", "", "production's past load in the CloudWatch usage metrics, `RATE:DURATION`: e.g. 20:20m\nis 20 UserUpdate calls/s in each of the last 20 minutes")
	fs.IntVar(&o.burst, "burst", 0, "UserUpdate bucket depth in `calls` (1 to 100); 0 is one second of --quota")
	err := fs.Parse(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageHead)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: every setting is a flag", fs.Arg(0))
	}
	o.seeds, o.pools, o.deny = seeds, pools, deny
	sum := 0.0
	for _, p := range []struct {
		name string
		v    float64
	}{{"throttle", o.throttle}, {"error", o.errorP}, {"reset", o.reset}, {"reset-after", o.resetAfter}} {
		if p.v < 0 || p.v > 1 || math.IsNaN(p.v) {
			return o, fmt.Errorf("--%s %v: a probability is between 0 and 1", p.name, p.v)
		}
		sum += p.v
	}
	if sum > 1 {
		return o, fmt.Errorf("--throttle, --error, --reset and --reset-after add up to %v: at most 1", sum)
	}
	for _, q := range []struct {
		name string
		v    float64
	}{{"quota", o.quota}, {"read-quota", o.readQuota}, {"list-quota", o.listQuota}, {"production", o.production}} {
		if q.v < 0 || math.IsNaN(q.v) || math.IsInf(q.v, 0) {
			return o, fmt.Errorf("--%s %v: want a rate of 0 or more", q.name, q.v)
		}
	}
	if o.applied < 0 || math.IsNaN(o.applied) || math.IsInf(o.applied, 0) {
		return o, fmt.Errorf("--applied-quota %v: want a rate of 0 or more", o.applied)
	}
	if *hist != "" {
		if o.history, err = parseHistory(*hist); err != nil {
			return o, err
		}
	}
	if o.pattern, err = fakecognito.ParsePattern(*pattern); err != nil {
		return o, fmt.Errorf("--production-pattern: %w", err)
	}
	if o.burst < 0 || o.burst > maxBurst {
		return o, fmt.Errorf("--burst %d: want 1 to %d calls, or 0 for one second of --quota", o.burst, maxBurst)
	}
	if o.latency < 0 || o.jitter < 0 {
		return o, errors.New("--latency and --jitter cannot be negative")
	}
	return o, nil
}

// maxBurst is the deepest UserUpdate bucket --burst takes: Cognito does not
// publish its depth, and the scenarios of the rate controller go up to 100.
const maxBurst = 100

// quota is a bucket of rate per second, burst deep (0: one second of rate).
func quota(rate float64, burst int) fakecognito.Quota {
	if burst == 0 {
		burst = int(math.Ceil(rate))
	}
	return fakecognito.Quota{Rate: rate, Burst: burst}
}

// appliedQuotas is what Service Quotas reports. It does not follow --quota:
// the bench's matrix runs cells whose bucket cogsweep is not told of, and
// an account that bought more says so with both flags.
func appliedQuotas(o options) map[fakecognito.Category]float64 {
	if o.applied <= 0 {
		return nil
	}
	return map[fakecognito.Category]float64{fakecognito.UserUpdate: o.applied}
}

// run serves until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "fakecognito: %v\nRun fakecognito --help for the flags.\n", err)
		return 2
	}
	if err := serve(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "fakecognito: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, stdout io.Writer) error {
	fake := fakecognito.New(fakecognito.Options{
		Seed:           o.randSeed,
		Latency:        o.latency,
		LatencyJitter:  o.jitter,
		ThrottleProb:   o.throttle,
		ErrorProb:      o.errorP,
		ResetProb:      o.reset,
		ResetAfterProb: o.resetAfter,
		UserUpdate:     quota(o.quota, o.burst),
		UserRead:       quota(o.readQuota, 0),
		UserList:       quota(o.listQuota, 0),
		DenyOps:        o.deny,
		AppliedQuotas:  appliedQuotas(o),
	})
	if o.history.rate > 0 {
		fake.SeedUsage(fakecognito.UserUpdate, o.history.span, o.history.rate, 0)
	}
	for _, id := range o.pools {
		if err := fake.CreatePool(id, fakecognito.PoolOptions{}); err != nil {
			return err
		}
	}
	for _, path := range o.seeds {
		if err := loadSeed(fake, path); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: handler(fake), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if o.production > 0 {
		prodCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		fake.StartProductionWith(prodCtx, fakecognito.Production{
			Schedule: []fakecognito.Step{{Rate: o.production}}, Pattern: o.pattern, Seed: uint64(o.randSeed)})
	}
	if o.urlFile != "" {
		if err := writeFileAtomic(o.urlFile, url+"\n"); err != nil {
			_ = srv.Close()
			return fmt.Errorf("write url file: %w", err)
		}
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

func loadSeed(fake *fakecognito.Server, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open seed: %w", err)
	}
	defer f.Close()
	if err := fake.LoadCSV(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// handler serves the API at / and the helpers under /_fake/.
func handler(fake *fakecognito.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", fake)
	mux.HandleFunc("GET /_fake/token", func(w http.ResponseWriter, r *http.Request) {
		pool, username := r.URL.Query().Get("pool"), r.URL.Query().Get("username")
		if _, ok := fake.User(pool, username); !ok {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, fake.IssueToken(pool, username))
	})
	mux.HandleFunc("GET /_fake/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fake.Stats())
	})
	return mux
}

// writeFileAtomic makes a script that polls for path see either nothing or
// the whole content.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fakecognito-url-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
