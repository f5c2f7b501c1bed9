package cli

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/run"
)

// logLines parses a JSON log into records.
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

func findLog(recs []map[string]any, prefix string) map[string]any {
	for _, rec := range recs {
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, prefix) {
			return rec
		}
	}
	return nil
}

// TestRun_AccountPlan runs disable --rate auto against a fake account and
// checks what the pre-flight read of Service Quotas and CloudWatch made of
// it: the --max-rate in effect, auto's first rate, the warning, the plan
// line and the audit record.
func TestRun_AccountPlan(t *testing.T) {
	tests := []struct {
		name          string
		opts          fakecognito.Options
		history       float64 // production's calls/s over the last 20 minutes
		args          []string
		wantMaxRate   float64
		wantStart     float64
		wantWarn      string // "" for no warning line
		wantWarn2     string // more the one line names
		wantPlan      string
		wantQuotaKnow bool
	}{
		{name: "a bought quota of 100/s is max-rate's default",
			opts:    fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserUpdate: 100}},
			history: 10, wantMaxRate: 100, wantStart: 81, wantQuotaKnow: true,
			wantPlan: "at about 81/s free (quota 100/s, production 10/s over the last hour), 20 rows take about 1s"},
		{name: "an explicit --max-rate wins over the quota",
			opts:    fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserUpdate: 100}},
			history: 10, args: []string{"--max-rate", "30"}, wantMaxRate: 30, wantStart: 27, // auto's ceiling, 90% of --max-rate
			wantQuotaKnow: true,
			wantPlan:      "at about 81/s free (quota 100/s, production 10/s over the last hour)"},
		{name: "a dry run plans too",
			history: 20, args: []string{"--dry-run"}, wantMaxRate: 25, wantStart: 4.5, wantQuotaKnow: true,
			wantPlan: "at about 4.5/s free (quota 25/s, production 20/s over the last hour), 20 rows take about 4s"},
		{name: "busy production: auto starts at the free share",
			history: 20, wantMaxRate: 25, wantStart: 4.5, wantQuotaKnow: true,
			wantPlan: "at about 4.5/s free (quota 25/s, production 20/s over the last hour), 20 rows take about 4s"},
		{name: "permission denied: one warning line, today's defaults",
			opts:    fakecognito.Options{DenyOps: []string{"GetServiceQuota", "GetMetricData"}},
			history: 20, wantMaxRate: 25, wantStart: 12.5,
			wantWarn: "servicequotas:GetServiceQuota", wantWarn2: "cloudwatch:GetMetricData", wantPlan: "at about 12.5/s free (quota 25/s, production unknown over the last hour)"},
		{name: "empty metrics: a warning, auto at half the quota",
			wantMaxRate: 25, wantStart: 12.5, wantQuotaKnow: true,
			wantWarn: "no data points", wantPlan: "at about 12.5/s free (quota 25/s, production unknown over the last hour)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			srv, url := fake(t, tt.opts, 20)
			if tt.history > 0 {
				srv.SeedUsage(fakecognito.UserUpdate, 20*time.Minute, tt.history, 0)
			}
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "leavers.csv", usersCSV(1, 20))
			args := append([]string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url,
				"--rate", "auto", "--progress", "off", "--log-format", "json"}, tt.args...)
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitOK {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			recs := logLines(t, res.stderr)
			start := findLog(recs, "starting")
			if start == nil {
				t.Fatalf("no starting line:\n%s", res.stderr)
			}
			if got := start["max_rate"].(float64); got != tt.wantMaxRate {
				t.Errorf("max_rate %v, want %v", got, tt.wantMaxRate)
			}
			// The rate climbs from its start at once; the line is logged
			// a moment later.
			if got := start["start_rate"].(float64); math.Abs(got-tt.wantStart) > 0.03*tt.wantStart {
				t.Errorf("start_rate %v, want %v", got, tt.wantStart)
			}
			var warns []string
			for _, rec := range recs {
				if rec["level"] == "WARN" {
					warns = append(warns, rec["msg"].(string))
				}
			}
			switch {
			case tt.wantWarn == "" && len(warns) > 0:
				t.Errorf("warnings %q, want none", warns)
			case tt.wantWarn != "" && (len(warns) != 1 || !strings.Contains(warns[0], tt.wantWarn) || !strings.Contains(warns[0], tt.wantWarn2)):
				t.Errorf("warnings %q, want one naming %q %q", warns, tt.wantWarn, tt.wantWarn2)
			}
			if plan := findLog(recs, "at about"); plan == nil || !strings.HasPrefix(plan["msg"].(string), tt.wantPlan) {
				t.Errorf("plan line %v, want it to start %q", plan, tt.wantPlan)
			}
			h, _ := readReport(t, run.DefaultReportPath(in, "disable", "", slices.Contains(tt.args, "--dry-run")))
			acct, _ := h.Audit["account"].(map[string]any)
			if acct == nil || acct["quota_known"] != tt.wantQuotaKnow || acct["rows"] != float64(20) {
				t.Errorf("audit account %v, want quota_known %v and 20 rows", acct, tt.wantQuotaKnow)
			}
		})
	}
}

// TestRun_AccountPlan_SilentCloudWatch: a CloudWatch endpoint that never
// answers costs one read's timeout and a warning, not the run.
func TestRun_AccountPlan_SilentCloudWatch(t *testing.T) {
	awsEnv(t)
	srv, _ := fake(t, fakecognito.Options{}, 5)
	stop := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/") {
			// The server notices a client that gave up only once the body
			// is read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(stop) }) // runs before hs.Close
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", hs.URL)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 5))
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", hs.URL,
		"--rate", "auto", "--call-timeout", "300ms", "--progress", "off", "--log-format", "json")
	if res.code != ExitOK {
		t.Fatalf("exit %d, want 0: an optional read must not stop the run\n%s", res.code, res.stderr)
	}
	var warns []string
	for _, rec := range logLines(t, res.stderr) {
		if rec["level"] == "WARN" {
			warns = append(warns, rec["msg"].(string))
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "CloudWatch GetMetricData") {
		t.Errorf("warnings %q, want one naming CloudWatch GetMetricData", warns)
	}
}

// A restore plans with the quota its creates spend: the pre-flight reads
// UserCreation (a bought 100/s here, production at 30/s of it), and auto's
// create limiter starts at the free share under that ceiling, while the
// UserUpdate quota (25/s) is not the plan's.
func TestRun_AccountPlan_RestoreReadsUserCreation(t *testing.T) {
	awsEnv(t)
	opts := fakecognito.Options{AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserCreation: 100}}
	srv, url := fake(t, opts, 0)
	seedRestorable(t, srv, 20)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 20))
	deleteWithBackup(t, url, in, "users.backup.ndjson")
	srv.SeedUsage(fakecognito.UserCreation, 20*time.Minute, 30, 0)
	res := cogsweep(t.Context(), t, "restore", "--from-backup", "users.backup.ndjson", "--endpoint-url", url,
		"--rate", "auto", "--progress", "off", "--log-format", "json")
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	recs := logLines(t, res.stderr)
	want := "at about 63/s free (quota 100/s, production 30/s over the last hour), 20 rows take about"
	if plan := findLog(recs, "at about"); plan == nil || !strings.HasPrefix(plan["msg"].(string), want) {
		t.Errorf("plan line %v, want it to start %q", plan, want)
	}
	h, _ := readReport(t, "users.backup.restore.report.ndjson")
	acct, _ := h.Audit["account"].(map[string]any)
	if acct == nil || acct["category"] != "UserCreation" || acct["quota"] != float64(100) || acct["max_rate"] != float64(100) {
		t.Errorf("audit account %v, want UserCreation's quota 100 as the ceiling", acct)
	}
}
