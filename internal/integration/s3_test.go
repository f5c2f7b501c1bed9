//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/s3sync"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

const testBucket = "cogsweep-it"

// s3Rig is moto's S3 (the same process as its Cognito) with a bucket, a
// pool of users and the input of leavers in the bucket.
type s3Rig struct {
	t     *testing.T
	m     *emulator.Moto
	api   *s3.Client
	store *s3sync.Store
	pool  string
	users []string
}

func newS3Rig(t *testing.T, users, leavers int) *s3Rig {
	t.Helper()
	m := emulator.StartMoto(t)
	api := s3sync.NewClient(m.AWSConfig(), s3sync.ClientOptions{EndpointURL: m.URL(), PathStyle: true})
	if _, err := api.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	r := &s3Rig{t: t, m: m, api: api, store: s3sync.New(api, s3sync.Options{}), pool: m.CreatePool(t, "offboarding")}
	for i := 1; i <= users; i++ {
		r.users = append(r.users, fmt.Sprintf("emp%04d", i))
	}
	m.CreateUsers(t, r.pool, r.users)
	var b strings.Builder
	b.WriteString("username,department\n")
	for _, u := range r.users[:leavers] {
		fmt.Fprintf(&b, "%s,Sales\n", u)
	}
	r.put("hr/leavers.csv", b.String())
	return r
}

func (r *s3Rig) put(key, content string) {
	r.t.Helper()
	_, err := r.api.PutObject(r.t.Context(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader(content)})
	if err != nil {
		r.t.Fatalf("put %s: %v", key, err)
	}
}

// keys lists the bucket's keys under prefix.
func (r *s3Rig) keys(prefix string) []string {
	r.t.Helper()
	out, err := r.api.ListObjectsV2(r.t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)})
	if err != nil {
		r.t.Fatalf("list %s: %v", prefix, err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}

// readBack downloads a mirrored file (base and segments) the way a new pod
// does, into a fresh directory, and returns its content.
func (r *s3Rig) readBack(key string) string {
	r.t.Helper()
	local := filepath.Join(r.t.TempDir(), "copy")
	if _, err := r.store.OpenMirror(r.t.Context(), s3sync.URL{Bucket: testBucket, Key: key}, local, 0); err != nil {
		r.t.Fatalf("read back %s: %v", key, err)
	}
	data, err := os.ReadFile(local)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

// records parses a report's lines after the header; a row with two lines
// fails the test.
func (r *s3Rig) records(content string) map[int]report.Record {
	r.t.Helper()
	path := filepath.Join(r.t.TempDir(), "report.ndjson")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
	return readRecords(r.t, path)
}

// command is a cogsweep process in its own working directory: a pod.
func (r *s3Rig) command(dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	args = append(args, "--endpoint-url", r.m.URL(), "--s3-endpoint-url", r.m.URL(), "--progress", "off", "--log-format", "text")
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(r.m.Env(), "AWS_ENDPOINT_URL_STS="+r.m.URL(), "HOME="+dir, "TMPDIR="+dir, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ENDPOINT_URL_STS="+r.m.URL()) // moto answers the pre-flight's GetCallerIdentity
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		t.Fatalf("run cogsweep: %v", err)
	}
	return 0
}

// waitUntil polls cond every 50 ms until it holds or the deadline passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newlines(s string) int { return strings.Count(s, "\n") }

// TestMoto_S3_KillAndResumeFromS3: a pod reading its input from S3 and
// keeping report and checkpoint there is SIGKILLed mid-run; a new pod (a
// fresh working directory, nothing local) runs the same command, waits for
// the dead pod's lease to expire, resumes from S3 and finishes. Every row is
// in the final S3 report exactly once, and the calls repeated after the
// kill are at most --concurrency.
func TestMoto_S3_KillAndResumeFromS3(t *testing.T) {
	const users, leavers, concurrency = 120, 100, 4
	r := newS3Rig(t, users, leavers)
	args := []string{"disable", "--user-pool-id", r.pool, "--input", "s3://" + testBucket + "/hr/leavers.csv",
		"--report", "s3://" + testBucket + "/runs/leavers.report.ndjson",
		"--rate", "15", "--concurrency", fmt.Sprint(concurrency), "--lease-ttl", "2s"}

	pod1, out1 := r.command(t.TempDir(), args...)
	if err := pod1.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once S3 holds a good part of the report: its segments are
	// what the next pod starts from.
	waitUntil(t, 30*time.Second, "30 outcomes in S3", func() bool {
		return newlines(r.readBack("runs/leavers.report.ndjson")) > 30
	})
	if err := pod1.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = pod1.Wait()
	killedAt := time.Now()
	if segs := r.keys("runs/leavers.checkpoint.seg."); len(segs) == 0 {
		t.Errorf("no checkpoint segments in S3 after the kill; pod 1 said:\n%s", out1)
	}
	if l := r.keys("runs/leavers.checkpoint.lease"); len(l) != 1 {
		t.Fatalf("the killed pod's lease: %v", l)
	}
	before := r.records(r.readBack("runs/leavers.report.ndjson"))
	t.Logf("killed with %d rows in the S3 report", len(before))

	pod2, out2 := r.command(t.TempDir(), args...)
	code := exitCode(t, pod2.Run())
	if code != 0 {
		t.Fatalf("resumed pod: exit %d\n%s", code, out2)
	}
	if waited := time.Since(killedAt); waited < 2*time.Second {
		t.Errorf("the new pod finished %s after the kill: it did not wait for the dead pod's lease", waited)
	}
	if !strings.Contains(out2.String(), "took over the checkpoint lease") {
		t.Errorf("the new pod did not say it took the lease over:\n%s", out2)
	}

	// S3 now holds one object per file: no segments, no lease.
	for _, prefix := range []string{"runs/leavers.report.ndjson.seg.", "runs/leavers.checkpoint.seg.", "runs/leavers.checkpoint.lease"} {
		if k := r.keys(prefix); len(k) != 0 {
			t.Errorf("left in S3: %v", k)
		}
	}
	got, err := r.api.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("runs/leavers.report.ndjson")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(got.Body)
	got.Body.Close()
	recs := r.records(buf.String())
	if len(recs) != leavers {
		t.Fatalf("final S3 report has %d rows, want %d", len(recs), leavers)
	}
	repeated := 0
	for row := 1; row <= leavers; row++ {
		rec, ok := recs[row]
		if !ok || rec.Outcome != report.Disabled || rec.Username != r.users[row-1] {
			t.Fatalf("row %d: %+v", row, rec)
		}
		if rec.Repeated {
			repeated++
		}
		if b, ok := before[row]; ok && b.Outcome == report.Disabled && rec.Repeated {
			t.Errorf("row %d was done before the kill and in S3, yet called again", row)
		}
	}
	if repeated > concurrency {
		t.Errorf("%d rows repeated after one kill, more than --concurrency %d", repeated, concurrency)
	}
	t.Logf("%d rows repeated after the kill (bound %d)", repeated, concurrency)
	for i, name := range r.users {
		enabled, exists := r.m.UserEnabled(t, r.pool, name)
		if !exists || enabled != (i >= leavers) {
			t.Fatalf("%s: exists %v enabled %v", name, exists, enabled)
		}
	}
	ck := r.readBack("runs/leavers.checkpoint")
	if !strings.Contains(ck, `"status":"finished"`) {
		t.Errorf("S3 checkpoint does not end finished:\n%s", ck)
	}
}

// TestMoto_S3_LeaseKeepsASecondRunOut: while a run holds an S3 checkpoint
// and renews its lease, a second run of the same command waits two TTLs
// and exits 2 without touching anything; the first finishes undisturbed.
func TestMoto_S3_LeaseKeepsASecondRunOut(t *testing.T) {
	const leavers = 60
	r := newS3Rig(t, leavers, leavers)
	args := []string{"disable", "--user-pool-id", r.pool, "--input", "s3://" + testBucket + "/hr/leavers.csv",
		"--report", "s3://" + testBucket + "/runs/leavers.report.ndjson", "--rate", "10", "--lease-ttl", "1s"}

	first, out1 := r.command(t.TempDir(), args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	waitUntil(t, 30*time.Second, "the first run's lease", func() bool {
		return len(r.keys("runs/leavers.checkpoint.lease")) == 1
	})

	start := time.Now()
	second, out2 := r.command(t.TempDir(), args...)
	code := exitCode(t, second.Run())
	if code != 2 || !strings.Contains(out2.String(), "held by a running cogsweep") {
		t.Fatalf("second run: exit %d, want 2 naming the live holder\n%s", code, out2)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("second run gave up after %s, before two TTLs", d)
	}
	select {
	case err := <-done:
		t.Fatalf("the first run ended (%v) before the second gave up: the test proves nothing; make it slower\n%s", err, out1)
	default:
	}

	if code := exitCode(t, <-done); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, out1)
	}
	recs := r.records(r.readBack("runs/leavers.report.ndjson"))
	if len(recs) != leavers {
		t.Fatalf("report has %d rows, want %d", len(recs), leavers)
	}
	for row, rec := range recs {
		if rec.Outcome != report.Disabled || rec.Repeated {
			t.Fatalf("row %d: %+v", row, rec)
		}
	}
}

// TestMoto_S3_SigtermSettlesThenResumes: SIGTERM drains the calls in
// flight, uploads the report (one line per row, not_attempted for the rest)
// and the checkpoint as single objects and releases the lease (exit 75);
// the same command then finishes at once, without waiting for a lease.
// Rows whose intent was journaled when the signal stopped them before
// their call are marked repeated on resume (the pipeline cannot know the
// call was never sent): at most one per worker.
func TestMoto_S3_SigtermSettlesThenResumes(t *testing.T) {
	const leavers, concurrency = 60, 4
	r := newS3Rig(t, leavers, leavers)
	args := []string{"disable", "--user-pool-id", r.pool, "--input", "s3://" + testBucket + "/hr/leavers.csv",
		"--report", "s3://" + testBucket + "/runs/leavers.report.ndjson", "--rate", "15", "--lease-ttl", "5s",
		"--concurrency", fmt.Sprint(concurrency)}
	pod, out := r.command(t.TempDir(), args...)
	if err := pod.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "10 outcomes in S3", func() bool {
		return newlines(r.readBack("runs/leavers.report.ndjson")) > 10
	})
	if err := pod.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, pod.Wait()); code != 75 {
		t.Fatalf("exit %d after SIGTERM, want 75\n%s", code, out)
	}
	for _, prefix := range []string{"runs/leavers.report.ndjson.seg.", "runs/leavers.checkpoint.seg.", "runs/leavers.checkpoint.lease"} {
		if k := r.keys(prefix); len(k) != 0 {
			t.Errorf("left in S3 after SIGTERM: %v", k)
		}
	}
	recs := r.records(r.readBack("runs/leavers.report.ndjson"))
	counts := map[report.Outcome]int{}
	for _, rec := range recs {
		counts[rec.Outcome]++
	}
	if len(recs) != leavers || counts[report.NotAttempted] == 0 || counts[report.Disabled] == 0 {
		t.Fatalf("report after SIGTERM: %d rows, %v", len(recs), counts)
	}

	start := time.Now()
	again, out2 := r.command(t.TempDir(), args...)
	if code := exitCode(t, again.Run()); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, out2)
	}
	if strings.Contains(out2.String(), "waiting") {
		t.Errorf("the resume waited for a lease that was released:\n%s", out2)
	}
	recs = r.records(r.readBack("runs/leavers.report.ndjson"))
	repeated := 0
	for row := 1; row <= leavers; row++ {
		rec := recs[row]
		if rec.Outcome != report.Disabled {
			t.Fatalf("row %d after the resume: %+v", row, rec)
		}
		if rec.Repeated {
			repeated++
		}
	}
	if repeated > concurrency {
		t.Errorf("%d rows marked repeated after a SIGTERM, more than --concurrency %d", repeated, concurrency)
	}
	t.Logf("resume took %s", time.Since(start).Round(time.Millisecond))
}

// TestMoto_S3_LostLeaseStopsTheRun: when another run takes the lease over
// (it judged this one dead), this run notices at its next renewal, makes no
// further mutating call, writes nothing more to S3 and exits 4.
func TestMoto_S3_LostLeaseStopsTheRun(t *testing.T) {
	const leavers = 80
	r := newS3Rig(t, leavers, leavers)
	args := []string{"disable", "--user-pool-id", r.pool, "--input", "s3://" + testBucket + "/hr/leavers.csv",
		"--report", "s3://" + testBucket + "/runs/leavers.report.ndjson", "--rate", "10", "--lease-ttl", "1s"}
	pod, out := r.command(t.TempDir(), args...)
	if err := pod.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pod.Wait() }()
	waitUntil(t, 30*time.Second, "10 outcomes in S3", func() bool {
		return newlines(r.readBack("runs/leavers.report.ndjson")) > 10
	})
	r.put("runs/leavers.checkpoint.lease", `{"holder":"another pod"}`)
	took := time.Now()
	var code int
	select {
	case err := <-done:
		code = exitCode(t, err)
	case <-time.After(20 * time.Second):
		t.Fatalf("the run did not stop after losing its lease\n%s", out)
	}
	if code != 4 || !strings.Contains(out.String(), "lost the checkpoint's lease") {
		t.Fatalf("exit %d, want 4 naming the lost lease\n%s", code, out)
	}
	if d := time.Since(took); d > 5*time.Second {
		t.Errorf("stopped %s after the takeover", d)
	}
	// It did not settle S3 behind the new holder's back.
	if ck := r.readBack("runs/leavers.checkpoint"); strings.Contains(ck, `"k":"end"`) {
		t.Errorf("the run that lost its lease wrote its end to S3:\n%s", ck)
	}
	disabled := 0
	for _, name := range r.users {
		if enabled, _ := r.m.UserEnabled(t, r.pool, name); !enabled {
			disabled++
		}
	}
	if disabled == leavers {
		t.Errorf("all %d users disabled: the run went on after losing its lease", leavers)
	}
}

// TestMoto_S3_TimelineBesideTheCheckpoint: a run whose checkpoint is in S3
// keeps its timeline beside it there (<checkpoint>.timeline), as a local
// run does beside a local checkpoint, so `cogsweep report --html` of the
// report and the timeline copied from S3 shows the calls over time.
func TestMoto_S3_TimelineBesideTheCheckpoint(t *testing.T) {
	const leavers = 40
	r := newS3Rig(t, leavers, leavers)
	pod, out := r.command(t.TempDir(), "disable", "--user-pool-id", r.pool, "--input", "s3://"+testBucket+"/hr/leavers.csv",
		"--report", "s3://"+testBucket+"/runs/leavers.report.ndjson", "--rate", "20", "--concurrency", "2")
	if code := exitCode(t, pod.Run()); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if k := r.keys("runs/leavers.checkpoint.timeline.seg."); len(k) != 0 {
		t.Errorf("timeline segments left in S3 after a finished run: %v", k)
	}
	dir := t.TempDir()
	rep, tlPath := filepath.Join(dir, "leavers.report.ndjson"), filepath.Join(dir, "leavers.checkpoint.timeline")
	for path, key := range map[string]string{rep: "runs/leavers.report.ndjson", tlPath: "runs/leavers.checkpoint.timeline"} {
		if err := os.WriteFile(path, []byte(r.readBack(key)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tl, err := timeline.Read(tlPath)
	if err != nil {
		t.Fatalf("the timeline in S3: %v", err)
	}
	sent := 0
	for _, run := range tl.Runs {
		for _, s := range run.Samples {
			for _, c := range s.Cats {
				sent += c.Sent
			}
		}
	}
	if len(tl.Runs) != 1 || tl.Runs[0].End != "finished" || sent < leavers {
		t.Fatalf("timeline in S3: %+v runs, %d calls sent; want one finished run with at least %d calls", tl.Runs, sent, leavers)
	}
	page := filepath.Join(dir, "leavers.html")
	cmd := exec.Command(binary, "report", rep, "--html", page)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cogsweep report --html: %v\n%s", err, b)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	_, rate, _ := strings.Cut(string(html), `<section id="rate">`)
	rate, _, _ = strings.Cut(rate, "</section>")
	if strings.Contains(string(html), "no timeline at") || !strings.Contains(rate, `<path class="series"`) {
		t.Errorf("the page of the S3 run shows no calls over time")
	}
}
