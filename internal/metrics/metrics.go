// Package metrics pushes a run's progress and result to a Prometheus
// Pushgateway, the usual way for batch jobs that live shorter than a scrape
// interval (a CronJob's pod) to be monitored.
//
// Every push is a POST (push.Pusher.Add), which replaces only the metrics of
// the same names in the group. cogsweep_last_success_timestamp_seconds is
// pushed only by a run that succeeded, so a failed run leaves the previous
// success's timestamp in the gateway: the alert "no success for 2 days"
// (time() - cogsweep_last_success_timestamp_seconds > 2*86400) keeps working
// across failed runs.
//
// It may import report (the outcome names); only internal/run imports it.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/cogsweep/cogsweep/internal/report"
)

// DefaultJob is the job label of the pushed group.
const DefaultJob = "cogsweep"

// Config says where to push and under which grouping key: job, action and
// shard.
type Config struct {
	URL    string
	Job    string // default DefaultJob
	Action string
	Shard  string // e.g. "2-of-8"; "all" for an unsharded run
	// Client does the HTTP requests (default: an http.Client with a 10 s
	// timeout, so a hung gateway cannot hold a pod that should exit).
	Client push.HTTPDoer
	Log    *slog.Logger
	Now    func() time.Time
}

// Snapshot is what a run has done so far.
type Snapshot struct {
	// Counts are rows by outcome: while running, the rows this run has
	// finished; at the end, the whole report (one line per row).
	Counts    map[report.Outcome]int
	Rows      int // rows the run owns (the input's, or its shard's)
	Calls     int
	Throttles int
	Retries   int
	Elapsed   time.Duration
	// Limit is the write limiter's rate (it moves under --rate auto).
	Limit float64
}

// Pusher holds the latest snapshot and pushes it. It is safe for
// concurrent use.
type Pusher struct {
	cfg    Config
	pusher *push.Pusher

	mu        sync.Mutex
	snap      Snapshot
	running   bool
	exitCode  int
	ended     bool
	successAt time.Time // zero unless the run succeeded
}

// ValidateURL checks a --pushgateway value: an http or https URL with a
// host.
func ValidateURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--pushgateway %q: want an http:// or https:// URL, e.g. http://pushgateway.monitoring:9091", s)
	}
	return nil
}

// New returns a Pusher for cfg. The run counts as running until Finish.
func New(cfg Config) (*Pusher, error) {
	if err := ValidateURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Job == "" {
		cfg.Job = DefaultJob
	}
	if cfg.Shard == "" {
		cfg.Shard = "all"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Pusher{cfg: cfg, running: true}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collector{p}); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	p.pusher = push.New(cfg.URL, cfg.Job).Gatherer(reg).Client(cfg.Client).
		Grouping("action", cfg.Action).Grouping("shard", cfg.Shard)
	return p, nil
}

// Observe replaces the snapshot the next push sends.
func (p *Pusher) Observe(s Snapshot) {
	counts := make(map[report.Outcome]int, len(s.Counts))
	for k, v := range s.Counts {
		counts[k] = v
	}
	s.Counts = counts
	p.mu.Lock()
	p.snap = s
	p.mu.Unlock()
}

// Push sends the current snapshot once.
func (p *Pusher) Push(ctx context.Context) error {
	if err := p.pusher.AddContext(ctx); err != nil {
		return fmt.Errorf("push metrics to %s: %w", p.cfg.URL, err)
	}
	return nil
}

// Run pushes every interval until ctx ends. A failed push is logged and
// the next one tried: metrics never stop a run.
func (p *Pusher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Push(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Log.Warn("metrics push failed; the run goes on", "error", err)
			}
		}
	}
}

// Finish marks the run ended with exitCode and pushes the result; exit 0
// also sets the last-success timestamp. ctx should outlive a signal that
// stopped the run, so the result still goes out. A failure is logged and
// returned; the caller must not fail the run for it.
func (p *Pusher) Finish(ctx context.Context, exitCode int) error {
	p.mu.Lock()
	p.running, p.ended, p.exitCode = false, true, exitCode
	if exitCode == 0 {
		p.successAt = p.cfg.Now()
	}
	p.mu.Unlock()
	err := p.Push(ctx)
	if err != nil {
		p.cfg.Log.Warn("metrics push failed; the run's result is unaffected", "error", err)
	}
	return err
}

// collector turns the Pusher's state into metrics at each push.
type collector struct{ p *Pusher }

// The names of the metrics a run pushes. Dashboards and alerts name only
// these (deploy/manifests_test.go checks it against Names).
const (
	NameRows        = "cogsweep_rows"
	NameInputRows   = "cogsweep_input_rows"
	NameCalls       = "cogsweep_calls_total"
	NameThrottles   = "cogsweep_throttles_total"
	NameRetries     = "cogsweep_retries_total"
	NameRate        = "cogsweep_achieved_calls_per_second"
	NameLimit       = "cogsweep_rate_limit_calls_per_second"
	NameDuration    = "cogsweep_duration_seconds"
	NameRunning     = "cogsweep_running"
	NameExitCode    = "cogsweep_last_exit_code"
	NameLastSuccess = "cogsweep_last_success_timestamp_seconds"
)

// Names returns the name of every metric a run pushes.
func Names() []string {
	return []string{NameRows, NameInputRows, NameCalls, NameThrottles, NameRetries, NameRate, NameLimit,
		NameDuration, NameRunning, NameExitCode, NameLastSuccess}
}

// Labels returns the labels the pushed series carry: the grouping key
// (job, action, shard), the outcome of cogsweep_rows, and the instance
// label the Pushgateway adds.
func Labels() []string { return []string{"job", "action", "shard", "outcome", "instance"} }

var (
	descRows        = prometheus.NewDesc(NameRows, "Rows by outcome: while running, the rows this run has finished; at the end, the whole report.", []string{"outcome"}, nil)
	descInputRows   = prometheus.NewDesc(NameInputRows, "Rows the run owns: the input's, or its shard's.", nil, nil)
	descCalls       = prometheus.NewDesc(NameCalls, "Cognito API calls made by this run, retries included.", nil, nil)
	descThrottles   = prometheus.NewDesc(NameThrottles, "Calls answered TooManyRequestsException.", nil, nil)
	descRetries     = prometheus.NewDesc(NameRetries, "Attempts after the first, summed over calls.", nil, nil)
	descRate        = prometheus.NewDesc(NameRate, "Calls per second achieved over the run.", nil, nil)
	descLimit       = prometheus.NewDesc(NameLimit, "The write limiter's rate (this shard's share).", nil, nil)
	descDuration    = prometheus.NewDesc(NameDuration, "Time the run has been working.", nil, nil)
	descRunning     = prometheus.NewDesc(NameRunning, "1 while the run works, 0 once it ended.", nil, nil)
	descExitCode    = prometheus.NewDesc(NameExitCode, "Exit code of the last run that ended (0 ok, 2 usage, 3 rows failed, 4 aborted, 75 interrupted).", nil, nil)
	descLastSuccess = prometheus.NewDesc(NameLastSuccess, "Unix time the last successful run (exit 0) ended.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRows, descInputRows, descCalls, descThrottles, descRetries,
		descRate, descLimit, descDuration, descRunning, descExitCode, descLastSuccess} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	p := c.p
	p.mu.Lock()
	s, running, ended, code, success := p.snap, p.running, p.ended, p.exitCode, p.successAt
	p.mu.Unlock()

	outcomes := make([]string, 0, len(s.Counts))
	for o := range s.Counts {
		outcomes = append(outcomes, string(o))
	}
	sort.Strings(outcomes)
	for _, o := range outcomes {
		ch <- prometheus.MustNewConstMetric(descRows, prometheus.GaugeValue, float64(s.Counts[report.Outcome(o)]), o)
	}
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Calls) / s.Elapsed.Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descInputRows, prometheus.GaugeValue, float64(s.Rows))
	ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(s.Calls))
	ch <- prometheus.MustNewConstMetric(descThrottles, prometheus.CounterValue, float64(s.Throttles))
	ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(s.Retries))
	ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, rate)
	ch <- prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, s.Limit)
	ch <- prometheus.MustNewConstMetric(descDuration, prometheus.GaugeValue, s.Elapsed.Seconds())
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, b2f(running))
	if ended {
		ch <- prometheus.MustNewConstMetric(descExitCode, prometheus.GaugeValue, float64(code))
	}
	if !success.IsZero() {
		ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(success.UnixNano())/1e9)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
