package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// frames returns what each draw wrote, without the carriage return and
// the erase-to-end around it.
func frames(out string) []string {
	var fs []string
	for _, s := range strings.Split(out, "\r") {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\x1b[K")
		if s != "" {
			fs = append(fs, s)
		}
	}
	return fs
}

func TestBar_FitsTheWidth(t *testing.T) {
	tests := []struct {
		name  string
		width int
		want  []string // present in every frame
	}{
		{name: "narrow", width: 40, want: []string{"%", "ETA"}},
		{name: "80 columns keeps writes and reads apart", width: 80, want: []string{"[", "ETA", "elapsed", "w ", "r "}},
		{name: "wide has every long form", width: 200,
			want: []string{"rows", "elapsed", "writes", "(limit 20.0)", "reads", "throttled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			b := New(&out, Options{Width: func() int { return tt.width }})
			for i := 1; i <= 30; i++ {
				b.Update(Frame{Done: 1000 + i*20, Total: 12000, Elapsed: time.Duration(50+i) * time.Second,
					Writes: 1000 + i*20, Reads: 990 + i*19, WriteLimit: 20, Throttles: i / 10})
			}
			for _, f := range frames(out.String()) {
				if len(f) >= tt.width {
					t.Fatalf("frame of %d columns on a %d-column terminal: %q", len(f), tt.width, f)
				}
				for _, w := range tt.want {
					if !strings.Contains(f, w) {
						t.Errorf("frame %q lacks %q", f, w)
					}
				}
			}
		})
	}
}

func TestBar_RatesAndETAFromTheLastSeconds(t *testing.T) {
	tests := []struct {
		name    string
		window  time.Duration
		wantETA string
		wantW   string
	}{
		// 60 s at 10 rows/s, then 10 s at 40/s: 1,000 of 2,000 done, 1,000
		// left at 40/s is 25 s (the lifetime average, 14.3/s, says 1:10).
		{name: "ten-second window", window: 10 * time.Second, wantETA: "ETA 0:25", wantW: "writes 40.0/s"},
		{name: "default window is ten seconds", wantETA: "ETA 0:25", wantW: "writes 40.0/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			b := New(&out, Options{Width: func() int { return 200 }, Window: tt.window})
			done := 0
			for s := 1; s <= 70; s++ {
				if s <= 60 {
					done += 10
				} else {
					done += 40
				}
				b.Update(Frame{Done: done, Total: 2000, Elapsed: time.Duration(s) * time.Second, Writes: done, WriteLimit: 40})
			}
			fs := frames(out.String())
			last := fs[len(fs)-1]
			if !strings.Contains(last, tt.wantETA) || !strings.Contains(last, tt.wantW) {
				t.Fatalf("last frame %q, want %q and %q", last, tt.wantETA, tt.wantW)
			}
			if !strings.Contains(last, "elapsed 1:10") {
				t.Errorf("last frame %q lacks the elapsed time", last)
			}
		})
	}
}

func TestBar_ThrottlesPerMinuteOverTheLastMinute(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, Options{Width: func() int { return 200 }})
	// 120 throttles in the first minute, none in the next two.
	for s := 1; s <= 180; s++ {
		b.Update(Frame{Done: s, Total: 1000, Elapsed: time.Duration(s) * time.Second, Throttles: min(s, 60) * 2})
	}
	fs := frames(out.String())
	if last := fs[len(fs)-1]; !strings.Contains(last, "120 throttled (0.0/min)") {
		t.Fatalf("last frame %q, want 120 throttled at 0.0/min now", last)
	}
}

func TestBar_FinishReplacesTheLastFrame(t *testing.T) {
	tests := []struct {
		name  string
		done  int
		state string
		want  string
	}{
		{name: "done", done: 1000, state: "done", want: "100% 1000/1000 rows done in 0:50"},
		{name: "interrupted", done: 400, state: "interrupted", want: " 40% 400/1000 rows interrupted in 0:50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			b := New(&out, Options{Width: func() int { return 120 }})
			b.Update(Frame{Done: 950, Total: 1000, Elapsed: 49 * time.Second})
			f := Frame{Done: tt.done, Total: 1000, Elapsed: 50 * time.Second, Writes: tt.done}
			b.Finish(f, tt.state)
			b.Update(f) // after the end: nothing
			b.Finish(f, "again")
			s := out.String()
			if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
				t.Fatalf("output %q: want one newline, at the end", s)
			}
			fs := frames(s)
			if len(fs) != 2 || !strings.Contains(fs[1], tt.want) {
				t.Fatalf("frames %q: want the final one to contain %q", fs, tt.want)
			}
		})
	}
}

func TestBar_RedrawFitsTheNewWidth(t *testing.T) {
	var out bytes.Buffer
	width := 200
	b := New(&out, Options{Width: func() int { return width }})
	b.Update(Frame{Done: 10, Total: 100, Elapsed: time.Second, Writes: 10, Reads: 10, WriteLimit: 20})
	width = 50
	b.redraw() // what SIGWINCH does
	fs := frames(out.String())
	if len(fs) != 2 || len(fs[0]) < 100 || len(fs[1]) >= 50 {
		t.Fatalf("frames %q: want a wide one, then one under 50 columns", fs)
	}
}

func TestBar_LogLinesGoAboveTheBar(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, Options{Width: func() int { return 100 }})
	w := b.Writer()
	w.Write([]byte("before the first frame\n"))
	b.Update(Frame{Done: 1, Total: 10, Elapsed: time.Second})
	w.Write([]byte("during the run\n"))
	b.Finish(Frame{Done: 10, Total: 10, Elapsed: 2 * time.Second}, "done")
	w.Write([]byte("after the end\n"))
	s := out.String()
	// Each log line starts on a cleared line and the bar is drawn again
	// under the one written during the run.
	want := []string{"before the first frame\n\r", "\r\x1b[Kduring the run\n\r[", "0 throttled\x1b[K\nafter the end\n"}
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("output %q lacks %q", s, w)
		}
	}
}

// A long run's frames a second apart keep about a span of samples, not the run's.
func TestWindow_Bounded(t *testing.T) {
	w := Window{Span: time.Minute}
	for i := 1; i <= 3600; i++ {
		w.Rate(time.Duration(i)*time.Second, i/10)
	}
	if len(w.samples) > 64 {
		t.Errorf("kept %d samples: memory must stay bounded", len(w.samples))
	}
	if got := 60 * w.Rate(3601*time.Second, 360); got < 5.8 || got > 6.2 {
		t.Errorf("one a 10 s = %.2f/min, want 6", got)
	}
}
