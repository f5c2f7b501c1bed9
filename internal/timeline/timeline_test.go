package timeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeLimiter is a Limiter that grants every token at once.
type fakeLimiter struct{ rate float64 }

func (f *fakeLimiter) Wait(ctx context.Context) error { return ctx.Err() }
func (f *fakeLimiter) Throttled()                     {}
func (f *fakeLimiter) Succeeded(time.Duration)        {}
func (f *fakeLimiter) Rate() float64                  { return f.rate }

// clock is a settable clock for the recorder's Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// record runs one recorder over path: each step is one second's calls,
// sampled by sending a tick, and the sampled line is waited for by polling
// the file's size (no sleeping).
func record(t *testing.T, path string, resume bool, seconds int, status string) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	if resume {
		c.t = c.t.Add(time.Hour)
	}
	tick := make(chan time.Time)
	r, err := Open(path, Options{Resume: resume, Now: c.now, Tick: tick})
	if err != nil {
		t.Fatal(err)
	}
	w := r.Meter("UserUpdate", &fakeLimiter{rate: 20})
	rd := r.Meter("UserRead", &fakeLimiter{rate: 25})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range seconds {
		for range 20 {
			_ = w.Wait(ctx)
			w.Succeeded(40 * time.Millisecond)
		}
		_ = w.Wait(ctx)
		w.Throttled()
		_ = rd.Wait(ctx)
		rd.Failed()
		_ = w.Wait(ctx) // in flight at the end of the second
		c.t = c.t.Add(time.Second)
		before := size(t, path)
		tick <- c.t
		waitFor(t, func() bool { return size(t, path) > before }, "sample %d written", i)
		w.Succeeded(time.Millisecond)
	}
	if err := r.Close(status); err != nil {
		t.Fatal(err)
	}
}

func size(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func waitFor(t *testing.T, ok func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: "+what, args...)
		}
		time.Sleep(time.Millisecond) // polling a condition, not waiting for time to pass
	}
}

func TestRecorder_CountsEachSecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.checkpoint.timeline")
	record(t, path, false, 3, "finished")
	tl, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Runs) != 1 || tl.Runs[0].End != "finished" || tl.Runs[0].Resume {
		t.Fatalf("runs = %+v", tl.Runs)
	}
	r := tl.Runs[0]
	if got := strings.Join(r.Categories, ","); got != "UserUpdate,UserRead" {
		t.Fatalf("categories %s", got)
	}
	// 3 ticks plus the partial second Close writes.
	if len(r.Samples) != 4 {
		t.Fatalf("%d samples, want 4", len(r.Samples))
	}
	s := r.Samples[1]
	w, rd := s.Cats[0], s.Cats[1]
	if w.Sent != 22 || w.OK != 21 || w.Throttled != 1 || w.Rate != 20 {
		t.Errorf("UserUpdate second = %+v, want sent 22 (one in flight), ok 21 (one from the second before), throttled 1, rate 20", w)
	}
	if rd.Sent != 1 || rd.Failed != 1 || rd.Rate != 25 {
		t.Errorf("UserRead second = %+v", rd)
	}
	if s.InFlight != 1 {
		t.Errorf("in flight %d, want 1", s.InFlight)
	}
	if s.Latency[0] < 40 || s.Latency[0] > 48 {
		t.Errorf("p50 %.1f ms, want ~40", s.Latency[0])
	}
}

func TestRecorder_ResumeAppendsAndMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.checkpoint.timeline")
	record(t, path, false, 2, "interrupted")
	// A kill mid-line leaves a torn tail; the resume cuts it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`[1700000003,1,4`)
	f.Close()
	record(t, path, true, 2, "finished")
	tl, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Runs) != 2 || tl.Runs[0].End != "interrupted" || !tl.Runs[1].Resume || tl.Runs[1].N != 2 || tl.Skipped != 0 {
		t.Fatalf("runs = %+v skipped %d", tl.Runs, tl.Skipped)
	}
	v := NewView([]*Timeline{tl}, 100)
	if len(v.Resumes) != 1 || v.Runs != 2 {
		t.Fatalf("view resumes %v runs %d", v.Resumes, v.Runs)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpen_Refuses(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("{\"kind\":\"header\"}\n"), 0o600)
	link := filepath.Join(dir, "link.timeline")
	os.Symlink(other, link)
	tests := []struct {
		name string
		path string
		want error
	}{
		{name: "symlink", path: link, want: syscall.ELOOP},
		{name: "another file", path: other, want: ErrNotTimeline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.path, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBounds_TwelveHours writes the timeline of a 12-hour run (43,200
// samples of a busy run: three categories, four- and five-digit counts,
// fractional rates and latencies) with the real encoder and checks it
// stays a few MB, and that a view of it stays at most its points.
func TestBounds_TwelveHours(t *testing.T) {
	const seconds = 12 * 3600
	path := filepath.Join(t.TempDir(), "12h.timeline")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte(`{"kind":"cogsweep-timeline","v":1}` + "\n" + `{"run":1,"at":"2024-01-01T00:00:00Z","categories":["UserUpdate","UserRead","UserList"]}` + "\n")
	for i := range seconds {
		s := Sample{T: 1_700_000_000 + int64(i), InFlight: 64, Latency: [3]float64{41.25, 87.5, 1234.56},
			Cats: []Counts{
				{Sent: 1000 + i%97, OK: 999, Throttled: i % 13, Failed: i % 3, Rate: 1000.37},
				{Sent: 25, OK: 25, Rate: 25},
				{Sent: 5, OK: 5, Rate: 5},
			}}
		buf = append(AppendSample(buf, &s), '\n')
	}
	if _, err := f.Write(buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n := size(t, path)
	t.Logf("12-hour timeline: %d bytes (%.2f MB, %.0f bytes a second)", n, float64(n)/1e6, float64(n)/seconds)
	if n > 5<<20 {
		t.Fatalf("12-hour timeline is %d bytes, want at most 5 MiB", n)
	}
	tl, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(tl.Runs[0].Samples); got != seconds {
		t.Fatalf("read %d samples, want %d", got, seconds)
	}
	v := NewView([]*Timeline{tl}, 600)
	if len(v.Points) > 600 || v.Bin != 72 {
		t.Fatalf("view: %d points of %d s", len(v.Points), v.Bin)
	}
}

func TestHistogram_Percentiles(t *testing.T) {
	tests := []struct {
		name string
		lats []time.Duration
		p50  float64
		p99  float64
	}{
		{name: "none", lats: nil},
		{name: "one fast", lats: []time.Duration{50 * time.Microsecond}, p50: 0.1, p99: 0.1},
		{name: "a slow tail", lats: append(repeat(99, 30*time.Millisecond), 2*time.Second), p50: 30, p99: 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h histogram
			for _, l := range tc.lats {
				h.observe(l)
			}
			got := h.take()
			if !near(got[0], tc.p50) || !near(got[2], tc.p99) {
				t.Fatalf("p50 %.2f p99 %.2f, want ~%.2f ~%.2f", got[0], got[2], tc.p50, tc.p99)
			}
			if again := h.take(); again != [3]float64{} {
				t.Fatalf("take did not reset: %v", again)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// near: within the histogram's quarter-octave.
func near(got, want float64) bool { return got >= want && got <= want*1.19+1e-9 }

// TestRecorder_PartialSecondIsItsOwn: the last, partial second written at
// Close never shares a second with the tick before it, which would add up
// the limiter's rate twice in a view.
func TestRecorder_PartialSecondIsItsOwn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.timeline")
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	tick := make(chan time.Time)
	r, err := Open(path, Options{Now: c.now, Tick: tick})
	if err != nil {
		t.Fatal(err)
	}
	r.Meter("UserUpdate", &fakeLimiter{rate: 20})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := size(t, path)
	tick <- c.t.Add(time.Second)
	waitFor(t, func() bool { return size(t, path) > before }, "tick sample")
	c.t = c.t.Add(1500 * time.Millisecond) // Close in the same second as the tick
	if err := r.Close("finished"); err != nil {
		t.Fatal(err)
	}
	tl, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	s := tl.Runs[0].Samples
	if len(s) != 2 || s[0].T == s[1].T {
		t.Fatalf("samples at %v", s)
	}
	v := NewView([]*Timeline{tl}, 10)
	for _, p := range v.Points {
		if p.Rate[0] != 20 {
			t.Fatalf("rate %.0f at %v, want 20", p.Rate[0], p.T)
		}
	}
}
