package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
)

func TestResolveShard(t *testing.T) {
	tests := []struct {
		name    string
		shard   string
		shards  int
		index   string // JOB_COMPLETION_INDEX
		want    Shard
		wantErr string
	}{
		{name: "unsharded", want: Shard{}},
		{name: "shard flag", shard: "2/8", want: Shard{2, 8}},
		{name: "one shard of one", shard: "0/1", want: Shard{0, 1}},
		{name: "index from the Indexed Job", shards: 4, index: "3", want: Shard{3, 4}},
		{name: "--shard wins over the Job's index", shard: "1/4", shards: 4, index: "3", want: Shard{1, 4}},
		{name: "shards without an index", shards: 4, wantErr: "JOB_COMPLETION_INDEX"},
		{name: "index out of range", shards: 4, index: "4", wantErr: "0 <= I < N"},
		{name: "bad index", shards: 4, index: "x", wantErr: "not a shard index"},
		{name: "I equals N", shard: "4/4", wantErr: "0 <= I < N"},
		{name: "negative", shard: "-1/4", wantErr: "0 <= I < N"},
		{name: "zero shards", shard: "0/0", wantErr: "0 <= I < N"},
		{name: "not I/N", shard: "2", wantErr: "want I/N"},
		{name: "disagreeing counts", shard: "1/4", shards: 8, wantErr: "disagree"},
		{name: "negative shards", shards: -2, wantErr: "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveShard(tt.shard, tt.shards, func(k string) string {
				if k == jobCompletionIndexEnv {
					return tt.index
				}
				return ""
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestShard_OwnsPartitionsRows(t *testing.T) {
	rows := []input.Row{
		{N: 1, Username: "alice"}, {N: 2, Sub: "0000-sub"}, {N: 3, Email: "bob@example.com"},
		{N: 4, AccessToken: "eyJ.token.one"}, {N: 5, Err: "bare quote"}, {N: 6, Err: "bare quote"},
		{N: 7, Username: "alice"}, // a repeat: must land with row 1
	}
	for i := 8; i < 400; i++ {
		rows = append(rows, input.Row{N: i, Username: fmt.Sprintf("u%d", i)})
	}
	const n = 5
	per := make([]int, n)
	for _, r := range rows {
		owners := 0
		for i := range n {
			if (Shard{i, n}).Owns(r) {
				owners++
				per[i]++
			}
		}
		if owners != 1 {
			t.Fatalf("row %d owned by %d shards", r.N, owners)
		}
	}
	for i := range n {
		if (Shard{i, n}).Owns(rows[0]) != (Shard{i, n}).Owns(rows[6]) {
			t.Fatal("two rows of one user are in different shards: duplicate detection would miss them")
		}
		if per[i] < len(rows)/n/2 {
			t.Errorf("shard %d owns %d of %d rows: the hash is not spreading them", i, per[i], len(rows))
		}
	}
	// The token row is sharded by its token's fingerprint, never the token.
	want := input.ShardOf("token:"+input.TokenFingerprint("eyJ.token.one"), n)
	if !(Shard{want, n}).Owns(rows[3]) {
		t.Error("a token row is not sharded by its token's fingerprint")
	}
}

func TestShard_PathsRatesFingerprint(t *testing.T) {
	r := &run{o: &Options{DryRun: false}, shard: Shard{2, 8}}
	tests := []struct {
		name, got, want string
	}{
		{"default report", defaultReportPath("hr/leavers.csv", "disable", r.shard.Tag(), false), "leavers.disable.shard-2-of-8.report.ndjson"},
		{"default plan", defaultReportPath("hr/leavers.csv", "disable", r.shard.Tag(), true), "leavers.disable.shard-2-of-8.plan.report.ndjson"},
		{"explicit report", r.tagged("out/purge.report.ndjson"), "out/purge.shard-2-of-8.report.ndjson"},
		{"explicit checkpoint", r.tagged("out/purge.ckpt"), "out/purge.shard-2-of-8.ckpt"},
		{"s3 report", r.tagged("s3://bucket/p/purge.report.ndjson"), "s3://bucket/p/purge.shard-2-of-8.report.ndjson"},
		{"unsharded keeps its name", (&run{o: &Options{}}).tagged("purge.report.ndjson"), "purge.report.ndjson"},
	}
	r.o.DryRun = true
	tests = append(tests, struct{ name, got, want string }{"explicit plan", r.tagged("purge.report.ndjson"), "purge.shard-2-of-8.plan.report.ndjson"})
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}

	o := NewOptions(batch.Disable)
	o.Rate, o.MaxRate, o.ReadRate, o.ListRate = "20", 25, 30, 32
	o.perShard(8)
	if o.Rate != "2.5" || o.MaxRate != 25.0/8 || o.ReadRate != 30.0/8 || o.ListRate != 4 {
		t.Errorf("per shard of 8: rate %s max %g read %g list %g", o.Rate, o.MaxRate, o.ReadRate, o.ListRate)
	}
	o.Select = `status = "Disabled"`
	if err := o.shardable(Shard{1, 2}); err == nil {
		t.Error("--select was accepted with --shard")
	}
	if err := o.shardable(Shard{}); err != nil {
		t.Errorf("--select unsharded: %v", err)
	}
	o.Rate = "auto"
	o.perShard(2)
	if o.Rate != "auto" {
		t.Errorf("auto became %s", o.Rate)
	}

	job := "f00d"
	fps := map[string]bool{Shard{}.Fingerprint(job): true}
	for i := range 3 {
		fps[Shard{i, 3}.Fingerprint(job)] = true
	}
	fps[Shard{0, 2}.Fingerprint(job)] = true
	if len(fps) != 5 || (Shard{}).Fingerprint(job) != job {
		t.Errorf("fingerprints of the shards must differ from each other and an unsharded run keeps the job's: %v", fps)
	}
}

// attemptLog records when each request of the given operations reached the
// fake.
type attemptLog struct {
	mu    sync.Mutex
	ops   map[string]bool
	times []time.Time
}

func (a *attemptLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(target, '.'); i >= 0 && a.ops[target[i+1:]] {
			a.mu.Lock()
			a.times = append(a.times, time.Now())
			a.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// maxInWindow is the most attempts in any window of length d.
func (a *attemptLog) maxInWindow(d time.Duration) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := append([]time.Time(nil), a.times...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func runMain(ctx context.Context, args ...string) result {
	var out, errb bytes.Buffer
	no := false
	code := Main(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no})
	return result{code, out.String(), errb.String()}
}

// TestShards_ConcurrentRunsCoverEveryRowOnceUnderTheQuota runs the shards
// of one job at once against one fake whose UserUpdate quota is below what
// the shards would send if each took the whole --rate: the union of their
// reports must hold every row exactly once, and the attempts reaching the
// fake must stay within the quota.
func TestShards_ConcurrentRunsCoverEveryRowOnceUnderTheQuota(t *testing.T) {
	awsEnv(t)
	const (
		users  = 300
		shards = 3
		quota  = 200 // UserUpdate requests/s, account-wide
		rate   = 150 // --rate: the job's total; each shard takes 50/s
		// A bucket of 30 absorbs calls that a loaded machine's scheduler
		// bunches: after a stall every worker whose wait has passed sends
		// at once (with 10 it threw 3-10 throttles under -race on 2 cores
		// at load 8, peak 139/s). It stays far below what undivided
		// shards would send (3 x 150/s); the peak check allows for it.
		depth = 30
	)
	srv := fakecognito.New(fakecognito.Options{UserUpdate: fakecognito.Quota{Rate: quota, Burst: depth}})
	if err := srv.CreatePool(testPool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= users; i++ {
		if err := srv.AddUser(testPool, fakecognito.User{Username: userName(i)}); err != nil {
			t.Fatal(err)
		}
	}
	attempts := &attemptLog{ops: map[string]bool{"AdminDisableUser": true}}
	hs := httptest.NewServer(attempts.wrap(srv))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)

	dir := t.TempDir()
	t.Chdir(dir)
	// Rows: every user, one repeat (row 302, duplicate of row 7) and one
	// row naming a malformed pool (invalid).
	var in strings.Builder
	in.WriteString("username,user_pool_id\n")
	for i := 1; i <= users; i++ {
		in.WriteString(userName(i) + ",\n")
	}
	in.WriteString("ghost,not-a-pool\n" + userName(7) + ",\n")
	const rows = users + 2
	inPath := writeFile(t, dir, "leavers.csv", in.String())

	args := func(i int) []string {
		return []string{"disable", "--shard", fmt.Sprintf("%d/%d", i, shards), "--user-pool-id", testPool, "--input", inPath,
			"--endpoint-url", hs.URL, "--rate", fmt.Sprint(rate), "--read-rate", "5000", "--progress", "off",
			"--summary", fmt.Sprintf("summary-%d.json", i)}
	}
	results := make([]result, shards)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range shards {
		wg.Go(func() { results[i] = runMain(t.Context(), args(i)...) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	seen := map[int]string{}
	jobFP := ""
	problems := 0
	for i, res := range results {
		if res.code != ExitOK && res.code != ExitRowProblems {
			t.Fatalf("shard %d: exit %d\n%s", i, res.code, res.stderr)
		}
		if res.code == ExitRowProblems {
			problems++
		}
		path := fmt.Sprintf("leavers.disable.shard-%d-of-%d.report.ndjson", i, shards)
		h, recs := readReport(t, path)
		if h.Shard != fmt.Sprintf("%d/%d", i, shards) || h.Rows != rows || h.JobFingerprint == "" || h.JobFingerprint == h.Fingerprint {
			t.Errorf("%s header: shard %q rows %d job %q fingerprint %q", path, h.Shard, h.Rows, h.JobFingerprint, h.Fingerprint)
		}
		if jobFP == "" {
			jobFP = h.JobFingerprint
		} else if h.JobFingerprint != jobFP {
			t.Errorf("shards disagree on the job fingerprint: %s vs %s", h.JobFingerprint, jobFP)
		}
		for row, rec := range recs {
			if prev, dup := seen[row]; dup {
				t.Errorf("row %d is in %s and %s", row, prev, path)
			}
			seen[row] = path
			if rec.Outcome == report.NotAttempted {
				t.Errorf("%s: row %d not_attempted", path, row)
			}
		}
		if _, err := os.Stat(fmt.Sprintf("leavers.disable.shard-%d-of-%d.checkpoint", i, shards)); err != nil {
			t.Errorf("shard %d has no checkpoint of its own: %v", i, err)
		}
		var sum report.Summary
		data, err := os.ReadFile(fmt.Sprintf("summary-%d.json", i))
		if err != nil || json.Unmarshal(data, &sum) != nil {
			t.Fatalf("summary of shard %d: %v", i, err)
		}
		// Each shard paces at the job's --rate / N (its limiter may slow
		// down after a throttle, never speed up).
		if share := float64(rate) / shards; sum.LimiterRate > share || !strings.Contains(res.stderr, fmt.Sprintf(`"rate":"%g"`, share)) {
			t.Errorf("shard %d paced at %g/s, want %g (the job's --rate / N)\n%s", i, sum.LimiterRate, share, res.stderr)
		}
		if sum.Rows != len(recs) {
			t.Errorf("shard %d summary says %d rows, its report has %d", i, sum.Rows, len(recs))
		}
	}
	if len(seen) != rows {
		t.Errorf("the shards' reports cover %d rows, want %d", len(seen), rows)
	}
	if problems != 1 {
		t.Errorf("%d shards exited 3, want exactly the one owning the invalid row", problems)
	}
	for i := 1; i <= users; i++ {
		if u, ok := srv.User(testPool, userName(i)); !ok || !u.Disabled {
			t.Fatalf("%s not disabled", userName(i))
		}
	}
	peak := attempts.maxInWindow(time.Second)
	t.Logf("%d shards, %d rows in %s: peak %d AdminDisableUser attempts in 1 s (quota %d/s, --rate %d), %d throttled, %d calls",
		shards, rows, elapsed.Round(time.Millisecond), peak, quota, rate, srv.Throttled(), srv.Calls("AdminDisableUser"))
	if peak > quota+depth {
		t.Errorf("peak %d attempts in a second: above the quota %d (burst %d): the shards did not divide the rate", peak, quota, depth)
	}
	if th := srv.Throttled(); th > users/100 {
		t.Errorf("%d calls throttled, want at most %d", th, users/100)
	}

	// A shard run again makes no call: its own checkpoint says it finished.
	before := srv.Calls("AdminDisableUser") + srv.Calls("AdminGetUser")
	if res := runMain(t.Context(), args(0)...); res.code != results[0].code {
		t.Errorf("shard 0 again: exit %d, want %d\n%s", res.code, results[0].code, res.stderr)
	}
	if after := srv.Calls("AdminDisableUser") + srv.Calls("AdminGetUser"); after != before {
		t.Errorf("shard 0 again made %d calls", after-before)
	}

	// merge-reports joins them: one line per row, in row order.
	var reports []string
	for i := range shards {
		reports = append(reports, fmt.Sprintf("leavers.disable.shard-%d-of-%d.report.ndjson", i, shards))
	}
	res := runMain(t.Context(), append([]string{"merge-reports", "--output", "merged.ndjson"}, reports...)...)
	if res.code != ExitRowProblems { // the invalid row
		t.Fatalf("merge-reports: exit %d, want 3\n%s%s", res.code, res.stdout, res.stderr)
	}
	h, recs := readReport(t, "merged.ndjson")
	if len(recs) != rows || h.Shard != "" || h.Fingerprint != jobFP {
		t.Errorf("merged: %d rows, shard %q, fingerprint %q (job %q)", len(recs), h.Shard, h.Fingerprint, jobFP)
	}
	if recs[rows].Outcome != report.Duplicate || recs[rows-1].Outcome != report.Invalid || recs[7].Outcome != report.Disabled {
		t.Errorf("merged outcomes: row 7 %s, %d %s, %d %s", recs[7].Outcome, rows-1, recs[rows-1].Outcome, rows, recs[rows].Outcome)
	}

	// A missing shard is named, and the merge exits 3.
	res = runMain(t.Context(), "merge-reports", "--output", "partial.ndjson", reports[0], reports[2])
	if res.code != ExitRowProblems || !strings.Contains(res.stderr, "shard(s) 1 of 3") {
		t.Errorf("merge without shard 1: exit %d\n%s", res.code, res.stderr)
	}
	// Reports of another job are refused.
	other := writeFile(t, dir, "other.csv", usersCSV(1, 5))
	if r := runMain(t.Context(), "disable", "--shard", "1/3", "--user-pool-id", testPool, "--input", other, "--endpoint-url", hs.URL,
		"--report", "other.report.ndjson", "--progress", "off"); r.code != ExitOK {
		t.Fatalf("other input: exit %d\n%s", r.code, r.stderr)
	}
	res = runMain(t.Context(), "merge-reports", "--output", "mixed.ndjson", reports[0], "other.shard-1-of-3.report.ndjson", reports[2])
	if res.code != ExitUsage || !strings.Contains(res.stderr, "not shards of one job") {
		t.Errorf("merge of two jobs: exit %d\n%s", res.code, res.stderr)
	}
}

// TestShards_FromEnvironment: an Indexed Job's pod gets its index from
// JOB_COMPLETION_INDEX and the shard count from COGSWEEP_SHARDS.
func TestShards_FromEnvironment(t *testing.T) {
	awsEnv(t)
	_, url := fake(t, fakecognito.Options{}, 40)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "leavers.csv", usersCSV(1, 40))

	t.Setenv("COGSWEEP_SHARDS", "4")
	res := runMain(t.Context(), "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "JOB_COMPLETION_INDEX") {
		t.Fatalf("no index: exit %d, want 2 naming JOB_COMPLETION_INDEX\n%s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused run wrote files: %v", entries)
	}

	t.Setenv("JOB_COMPLETION_INDEX", "2")
	res = runMain(t.Context(), "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	h, recs := readReport(t, "leavers.disable.shard-2-of-4.report.ndjson")
	if h.Shard != "2/4" || len(recs) == 0 || len(recs) == 40 {
		t.Errorf("shard %q with %d of 40 rows", h.Shard, len(recs))
	}
	for row := range recs {
		if !(Shard{2, 4}).Owns(input.Row{N: row, Username: userName(row)}) {
			t.Errorf("row %d is not shard 2's", row)
		}
	}
}
