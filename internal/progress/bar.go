// Package progress draws a run's progress bar on a terminal: one line,
// redrawn in place, that fits the terminal's width (read at every frame
// and again when the terminal is resized), with the elapsed time, the rates
// of the last few seconds and the ETA they give, the writes and the reads
// apart (each quota has its own limiter), the throttles per minute, and a
// final frame that replaces the last one.
//
// It imports nothing of cogsweep's; internal/run draws it.
//
// It is our own small code rather than vbauerster/mpb or
// schollz/progressbar: the run's collector already hands over a snapshot
// each second, both libraries redraw from their own goroutine with their
// own rate estimate and width logic, and fitting our labelled fields into
// their templates is more code than drawing the line.
package progress

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Frame is what the run has done so far.
type Frame struct {
	Done, Total   int // rows given an outcome, of the rows this run has
	Elapsed       time.Duration
	Writes, Reads int     // calls paced by each limiter, retries included
	WriteLimit    float64 // the write limiter's rate now
	Throttles     int
}

// Options are a Bar's settings.
type Options struct {
	// Width returns the terminal's width in columns now (nil, or a result
	// of 0 or less: 80).
	Width func() int
	// Window is the span of the rates and the ETA (0: 10 s).
	Window time.Duration
}

// Bar is a progress bar on one terminal line. It is safe for concurrent
// use (the resize handler redraws from its own goroutine).
type Bar struct {
	mu                 sync.Mutex
	w                  io.Writer
	o                  Options
	rows, writes, read Window
	throttles          Window // over a minute: throttles come in bursts
	lastFrame          Frame  // for a redraw
	rates              rates
	drawn, finished    bool
}

type rates struct{ rows, writes, reads, throttlesPerMin float64 }

// New returns a Bar drawing on w.
func New(w io.Writer, o Options) *Bar {
	if o.Window <= 0 {
		o.Window = 10 * time.Second
	}
	return &Bar{w: w, o: o,
		rows: Window{Span: o.Window}, writes: Window{Span: o.Window}, read: Window{Span: o.Window},
		throttles: Window{Span: time.Minute}}
}

// Watch redraws the bar at the new width each time the terminal is
// resized, until ctx ends.
func (b *Bar) Watch(ctx context.Context) { onResize(ctx, b.redraw) }

// Update draws frame f in place of the last one.
func (b *Bar) Update(f Frame) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.rates = rates{
		rows:            b.rows.Rate(f.Elapsed, f.Done),
		writes:          b.writes.Rate(f.Elapsed, f.Writes),
		reads:           b.read.Rate(f.Elapsed, f.Reads),
		throttlesPerMin: b.throttles.Rate(f.Elapsed, f.Throttles) * 60,
	}
	b.lastFrame = f
	b.draw(b.running(f))
}

// Finish draws the final frame, f with state (done, interrupted, ...) in
// place of the ETA and whole-run rates, and ends the line. Later calls do
// nothing.
func (b *Bar) Finish(f Frame, state string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	b.draw(b.final(f, state))
	fmt.Fprintln(b.w)
}

func (b *Bar) redraw() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn && !b.finished {
		b.draw(b.running(b.lastFrame))
	}
}

// draw writes the line fitted to the width, over the last one: a carriage
// return and erase-to-end, so a shorter line leaves no tail. One column is
// kept free: a terminal that wraps on writing the last column would push
// every frame onto a new line.
func (b *Bar) draw(fs []field) {
	width := 80
	if b.o.Width != nil {
		if w := b.o.Width(); w > 0 {
			width = w
		}
	}
	fmt.Fprintf(b.w, "\r%s\x1b[K", fit(fs, width-1))
	b.drawn = true
}

// running is a frame's fields while the run goes on, most important first.
func (b *Bar) running(f Frame) []field {
	r := b.rates
	eta := "ETA ?"
	if left := f.Total - f.Done; left <= 0 {
		eta = "ETA 0:00"
	} else if r.rows > 0 {
		eta = "ETA " + clock(time.Duration(float64(left)/r.rows*float64(time.Second)))
	}
	return []field{
		barField(f),
		{rank: 9, forms: []string{percent(f)}},
		{rank: 5, forms: []string{fmt.Sprintf("%d/%d rows", f.Done, f.Total), fmt.Sprintf("%d/%d", f.Done, f.Total)}},
		{rank: 7, forms: []string{eta}},
		{rank: 6, forms: []string{"elapsed " + clock(f.Elapsed)}}, // a bare time beside the ETA would be ambiguous
		{rank: 4, forms: []string{
			fmt.Sprintf("writes %.1f/s (limit %.1f)", r.writes, f.WriteLimit),
			fmt.Sprintf("writes %.1f/s", r.writes), fmt.Sprintf("w %.1f/s", r.writes)}},
		{rank: 3, forms: []string{fmt.Sprintf("reads %.1f/s", r.reads), fmt.Sprintf("r %.1f/s", r.reads)}},
		{rank: 2, forms: []string{
			fmt.Sprintf("%d throttled (%.1f/min)", f.Throttles, r.throttlesPerMin),
			fmt.Sprintf("thr %.1f/min", r.throttlesPerMin)}},
	}
}

// final is the last frame's fields: the state and the whole run's rates
// (nothing is left to estimate).
func (b *Bar) final(f Frame, state string) []field {
	avg := func(n int) float64 {
		if f.Elapsed <= 0 {
			return 0
		}
		return float64(n) / f.Elapsed.Seconds()
	}
	return []field{
		barField(f),
		{rank: 9, forms: []string{percent(f)}},
		{rank: 5, forms: []string{fmt.Sprintf("%d/%d rows", f.Done, f.Total), fmt.Sprintf("%d/%d", f.Done, f.Total)}},
		{rank: 8, forms: []string{state}},
		{rank: 6, forms: []string{"in " + clock(f.Elapsed)}},
		{rank: 4, forms: []string{fmt.Sprintf("writes %.1f/s avg", avg(f.Writes)), fmt.Sprintf("w %.1f/s", avg(f.Writes))}},
		{rank: 3, forms: []string{fmt.Sprintf("reads %.1f/s avg", avg(f.Reads)), fmt.Sprintf("r %.1f/s", avg(f.Reads))}},
		{rank: 2, forms: []string{fmt.Sprintf("%d throttled", f.Throttles)}},
	}
}

func fraction(f Frame) float64 {
	if f.Total <= 0 {
		return 1
	}
	return min(1, float64(f.Done)/float64(f.Total))
}

func percent(f Frame) string { return fmt.Sprintf("%3.0f%%", fraction(f)*100) }

// barField is the bar itself: it takes the columns the text leaves, from
// 8 to 40 inside its brackets; it goes first on a very narrow terminal.
func barField(f Frame) field {
	return field{rank: 1, stretch: true, draw: func(width int) string {
		inner := width - 2
		n := int(fraction(f) * float64(inner))
		return "[" + strings.Repeat("#", n) + strings.Repeat("-", inner-n) + "]"
	}}
}

// clock is d as m:ss, or h:mm:ss from an hour.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Writer is the terminal under the bar, for the log: each write clears the
// bar's line, writes, and draws the bar again below, so a log line during
// the run neither lands in the middle of a frame nor leaves one behind.
// Writes should be whole lines.
func (b *Bar) Writer() io.Writer { return barWriter{b} }

type barWriter struct{ b *Bar }

func (w barWriter) Write(p []byte) (int, error) {
	b := w.b
	b.mu.Lock()
	defer b.mu.Unlock()
	live := b.drawn && !b.finished
	if live {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	n, err := b.w.Write(p)
	if live {
		b.draw(b.running(b.lastFrame))
	}
	return n, err
}
