package cli

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// pushgateway records the pushes it receives: the URL path (the grouping
// key) and the metric families.
type pushgateway struct {
	mu     sync.Mutex
	pushes []gatewayPush
}

type gatewayPush struct {
	method, path string
	families     map[string]*dto.MetricFamily
}

func (g *pushgateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := gatewayPush{method: r.Method, path: r.URL.Path, families: map[string]*dto.MetricFamily{}}
	dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.families[mf.GetName()] = &mf
	}
	g.mu.Lock()
	g.pushes = append(g.pushes, p)
	g.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (g *pushgateway) last(t *testing.T) gatewayPush {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pushes) == 0 {
		t.Fatal("nothing was pushed")
	}
	return g.pushes[len(g.pushes)-1]
}

// gauge returns the value of a metric with the given label, if pushed.
func (p gatewayPush) value(name, label, value string) (float64, bool) {
	mf, ok := p.families[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		match := label == ""
		for _, l := range m.GetLabel() {
			match = match || (l.GetName() == label && l.GetValue() == value)
		}
		if !match {
			continue
		}
		if m.Gauge != nil {
			return m.Gauge.GetValue(), true
		}
		return m.Counter.GetValue(), true
	}
	return 0, false
}

func TestMetrics_PushedAtTheEnd(t *testing.T) {
	tests := []struct {
		name        string
		csv         string
		extra       []string
		env         map[string]string
		wantCode    int
		wantPath    string
		wantSuccess bool
		wantRows    map[string]float64
	}{
		{name: "success sets the last-success timestamp", csv: usersCSV(1, 20),
			wantCode: ExitOK, wantPath: "/metrics/job/cogsweep/action/disable/shard/all", wantSuccess: true,
			wantRows: map[string]float64{"disabled": 20}},
		{name: "rows failed: no timestamp", csv: usersCSV(1, 5) + "bad\x01name\n",
			wantCode: ExitRowProblems, wantPath: "/metrics/job/cogsweep/action/disable/shard/all",
			wantRows: map[string]float64{"disabled": 5, "invalid": 1}},
		{name: "a dry run pushes to a group of its own", csv: usersCSV(1, 20), extra: []string{"--dry-run"},
			wantCode: ExitOK, wantPath: "/metrics/job/cogsweep/action/disable-dry-run/shard/all", wantSuccess: true,
			wantRows: map[string]float64{"would_disable": 20}},
		{name: "a shard, from the environment", csv: usersCSV(1, 20), env: map[string]string{"COGSWEEP_SHARD": "1/2", "COGSWEEP_PUSHGATEWAY_JOB": "offboarding"},
			wantCode: ExitOK, wantPath: "/metrics/job/offboarding/action/disable/shard/1-of-2", wantSuccess: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			_, url := fake(t, fakecognito.Options{}, 20)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "leavers.csv", tt.csv)
			gw := &pushgateway{}
			hs := httptest.NewServer(gw)
			defer hs.Close()
			t.Setenv("COGSWEEP_PUSHGATEWAY", hs.URL)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			res := runMain(t.Context(), append([]string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off"}, tt.extra...)...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			p := gw.last(t)
			if p.method != http.MethodPost {
				t.Errorf("method %s, want POST", p.method)
			}
			if !sameGrouping(p.path, tt.wantPath) {
				t.Errorf("pushed to %s, want %s", p.path, tt.wantPath)
			}
			if v, ok := p.value("cogsweep_last_exit_code", "", ""); !ok || v != float64(tt.wantCode) {
				t.Errorf("exit code metric %v (%v), want %d", v, ok, tt.wantCode)
			}
			if _, ok := p.value("cogsweep_last_success_timestamp_seconds", "", ""); ok != tt.wantSuccess {
				t.Errorf("last success pushed %v, want %v", ok, tt.wantSuccess)
			}
			for o, want := range tt.wantRows {
				if v, _ := p.value("cogsweep_rows", "outcome", o); v != want {
					t.Errorf("cogsweep_rows{outcome=%q} = %v, want %v", o, v, want)
				}
			}
			if v, _ := p.value("cogsweep_running", "", ""); v != 0 {
				t.Errorf("running = %v at the end", v)
			}
			if v, _ := p.value("cogsweep_calls_total", "", ""); v == 0 {
				t.Error("no calls counted")
			}
		})
	}
}

// sameGrouping compares grouping paths whatever the order of the label pairs
// after the job.
func sameGrouping(got, want string) bool {
	pairs := func(p string) map[string]string {
		parts := strings.Split(strings.TrimPrefix(p, "/metrics/"), "/")
		m := map[string]string{}
		for i := 0; i+1 < len(parts); i += 2 {
			m[parts[i]] = parts[i+1]
		}
		return m
	}
	g, w := pairs(got), pairs(want)
	if len(g) != len(w) {
		return false
	}
	for k, v := range w {
		if g[k] != v {
			return false
		}
	}
	return true
}

func TestMetrics_GatewayDownNeverFailsTheRun(t *testing.T) {
	awsEnv(t)
	_, url := fake(t, fakecognito.Options{}, 10)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 10))
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	res := runMain(t.Context(), "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off",
		"--pushgateway", dead.URL)
	if res.code != ExitOK {
		t.Fatalf("exit %d with the gateway down, want 0\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "metrics push failed") {
		t.Errorf("the failed push is not logged:\n%s", res.stderr)
	}

	res = runMain(t.Context(), "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--pushgateway", "pushgateway:9091")
	if res.code != ExitUsage {
		t.Errorf("a URL without scheme: exit %d, want 2\n%s", res.code, res.stderr)
	}
}
