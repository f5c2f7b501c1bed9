package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/cogsweep/cogsweep/internal/report"
)

// received is one request the test gateway received.
type received struct {
	method   string
	grouping map[string]string // from the URL path: job, action, shard
	families map[string]*dto.MetricFamily
}

// gateway is a stand-in Pushgateway: it decodes each push and hands it to
// the test on a channel.
type gateway struct {
	*httptest.Server
	pushes chan received
	mu     sync.Mutex
	status int
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{pushes: make(chan received, 100), status: http.StatusOK}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := decodePush(r)
		if err != nil {
			t.Errorf("decode push: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		status := g.status
		g.mu.Unlock()
		select {
		case g.pushes <- p:
		default:
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) setStatus(s int) {
	g.mu.Lock()
	g.status = s
	g.mu.Unlock()
}

func decodePush(r *http.Request) (received, error) {
	p := received{method: r.Method, grouping: map[string]string{}, families: map[string]*dto.MetricFamily{}}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/metrics/"), "/")
	if len(parts)%2 != 0 {
		return p, errors.New("odd grouping path " + r.URL.Path)
	}
	for i := 0; i < len(parts); i += 2 {
		p.grouping[parts[i]] = parts[i+1]
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return p, err
	}
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(r.Header))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			return p, nil
		} else if err != nil {
			return p, err
		}
		p.families[mf.GetName()] = &mf
	}
}

// value returns the value of the metric name with the given label pairs,
// and whether it was pushed.
func (p received) value(name string, labels ...string) (float64, bool) {
	mf, ok := p.families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

func (g *gateway) next(t *testing.T) received {
	t.Helper()
	select {
	case p := <-g.pushes:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no push within 10s")
	}
	return received{}
}

var fixedNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func newPusher(t *testing.T, url string, log *slog.Logger) *Pusher {
	t.Helper()
	p, err := New(Config{URL: url, Action: "disable", Shard: "2-of-8", Log: log, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func snapshot() Snapshot {
	return Snapshot{
		Counts: map[report.Outcome]int{report.Disabled: 40, report.NotFound: 2},
		Rows:   100, Calls: 90, Throttles: 3, Retries: 5, Elapsed: 9 * time.Second, Limit: 2.5,
	}
}

func TestPusher_PeriodicPushesWhileRunning(t *testing.T) {
	g := newGateway(t)
	p := newPusher(t, g.URL, nil)
	p.Observe(snapshot())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, 5*time.Millisecond) }()

	for range 2 { // more than one: the ticker keeps pushing
		got := g.next(t)
		if got.method != http.MethodPost {
			t.Errorf("method %s, want POST (PUT would delete the last-success timestamp)", got.method)
		}
		want := map[string]string{"job": "cogsweep", "action": "disable", "shard": "2-of-8"}
		for k, v := range want {
			if got.grouping[k] != v {
				t.Errorf("grouping %s = %q, want %q (path grouping %v)", k, got.grouping[k], v, got.grouping)
			}
		}
		checks := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"cogsweep_rows", []string{"outcome", "disabled"}, 40},
			{"cogsweep_rows", []string{"outcome", "not_found"}, 2},
			{"cogsweep_input_rows", nil, 100},
			{"cogsweep_calls_total", nil, 90},
			{"cogsweep_throttles_total", nil, 3},
			{"cogsweep_retries_total", nil, 5},
			{"cogsweep_achieved_calls_per_second", nil, 10},
			{"cogsweep_rate_limit_calls_per_second", nil, 2.5},
			{"cogsweep_duration_seconds", nil, 9},
			{"cogsweep_running", nil, 1},
		}
		for _, c := range checks {
			v, ok := got.value(c.name, c.labels...)
			if !ok || v != c.want {
				t.Errorf("%s%v = %v (pushed %v), want %v", c.name, c.labels, v, ok, c.want)
			}
		}
		if _, ok := got.value("cogsweep_last_success_timestamp_seconds"); ok {
			t.Error("last-success timestamp pushed while running")
		}
		if _, ok := got.value("cogsweep_last_exit_code"); ok {
			t.Error("exit code pushed while running")
		}
	}
	cancel()
	<-done
}

func TestPusher_Finish(t *testing.T) {
	tests := []struct {
		name        string
		exit        int
		wantSuccess bool
	}{
		{name: "success sets the timestamp", exit: 0, wantSuccess: true},
		{name: "rows failed: no timestamp", exit: 3},
		{name: "aborted: no timestamp", exit: 4},
		{name: "interrupted: no timestamp", exit: 75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t)
			p := newPusher(t, g.URL, nil)
			p.Observe(snapshot())
			if err := p.Finish(t.Context(), tt.exit); err != nil {
				t.Fatal(err)
			}
			got := g.next(t)
			if v, _ := got.value("cogsweep_running"); v != 0 {
				t.Errorf("running = %v after Finish", v)
			}
			if v, ok := got.value("cogsweep_last_exit_code"); !ok || v != float64(tt.exit) {
				t.Errorf("exit code %v (pushed %v), want %d", v, ok, tt.exit)
			}
			v, ok := got.value("cogsweep_last_success_timestamp_seconds")
			if ok != tt.wantSuccess {
				t.Fatalf("last success pushed = %v, want %v", ok, tt.wantSuccess)
			}
			if ok && v != float64(fixedNow.Unix()) {
				t.Errorf("last success %v, want %d", v, fixedNow.Unix())
			}
		})
	}
}

func TestPusher_FailureIsLoggedAndReturned(t *testing.T) {
	g := newGateway(t)
	g.setStatus(http.StatusInternalServerError)
	var logs bytes.Buffer
	p := newPusher(t, g.URL, slog.New(slog.NewTextHandler(&logs, nil)))
	err := p.Finish(t.Context(), 0)
	if err == nil {
		t.Fatal("Finish against a failing gateway returned nil")
	}
	if !strings.Contains(logs.String(), "metrics push failed") {
		t.Errorf("failure not logged: %q", logs.String())
	}

	// A gateway that is not there at all: same, and quick.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	p = newPusher(t, dead.URL, nil)
	if err := p.Finish(t.Context(), 0); err == nil {
		t.Fatal("Finish against a closed gateway returned nil")
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{name: "http", url: "http://pushgateway.monitoring:9091", ok: true},
		{name: "https with path", url: "https://pgw.example.com/prefix", ok: true},
		{name: "no scheme", url: "pushgateway:9091"},
		{name: "ftp", url: "ftp://pushgateway"},
		{name: "no host", url: "http://"},
		{name: "empty", url: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateURL(tt.url); (err == nil) != tt.ok {
				t.Errorf("ValidateURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}

// TestNames_ArePushed: Names lists exactly the metrics a successful run
// pushes, so the dashboard and alert checks that read it
// (deploy/manifests_test.go) see what a gateway gets.
func TestNames_ArePushed(t *testing.T) {
	g := newGateway(t)
	p, err := New(Config{URL: g.URL, Action: "disable"})
	if err != nil {
		t.Fatal(err)
	}
	p.Observe(Snapshot{Counts: map[report.Outcome]int{report.Disabled: 1}, Rows: 1, Calls: 2, Elapsed: time.Second})
	if err := p.Finish(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	got := <-g.pushes
	var pushed []string
	for name := range got.families {
		pushed = append(pushed, name)
	}
	want := Names()
	sort.Strings(pushed)
	sort.Strings(want)
	if strings.Join(pushed, " ") != strings.Join(want, " ") {
		t.Fatalf("pushed %v\nNames  %v", pushed, want)
	}
}
