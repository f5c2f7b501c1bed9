package timeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Kind is the header line's kind; Version its format.
const (
	Kind    = "cogsweep-timeline"
	Version = 1
)

// PathFor is the timeline beside a checkpoint.
func PathFor(checkpoint string) string { return checkpoint + ".timeline" }

// ErrNotTimeline means a file's first line is not a timeline header: it is
// neither appended to nor read.
var ErrNotTimeline = errors.New("not a cogsweep timeline (first line is not its header)")

// Options tune a Recorder; the zero value is the documented behaviour.
type Options struct {
	// Resume marks this run as a resume of the one before.
	Resume bool
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// Tick, when set, replaces the one-second ticker (tests).
	Tick <-chan time.Time
	// SyncEvery is how many lines are written between fsyncs (default
	// 10: a power loss loses at most ten seconds of the picture, as the
	// report loses at most its last group).
	SyncEvery int
}

// Recorder appends one sample a second to a timeline file. The file is
// written like the checkpoint: mode 0600, no symlinks, each line written
// at once (write(2)), fsync in groups, a torn last line cut before
// appending.
type Recorder struct {
	path string
	o    Options
	hist histogram

	meters []*Meter
	run    int
	lastT  int64 // the last sample's second (only the sampler and Close write it, one after the other)

	mu       sync.Mutex // guards f, buf, unsynced, err
	f        *os.File
	buf      []byte
	unsynced int
	err      error

	stop context.CancelFunc
	done chan struct{}
}

// Open opens (creating it if need be) the timeline at path for appending.
func Open(path string, o Options) (*Recorder, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SyncEvery <= 0 {
		o.SyncEvery = 10
	}
	f, err := fsutil.OpenPrivate("timeline", path, os.O_RDWR|os.O_CREATE|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("open timeline: %w", err)
	}
	r := &Recorder{path: path, o: o, f: f}
	if err := r.prepare(); err != nil {
		f.Close()
		return nil, fmt.Errorf("open timeline %s: %w", path, err)
	}
	return r, nil
}

// prepare cuts a torn tail, writes the header of a new file and counts the
// runs already recorded.
func (r *Recorder) prepare() error {
	size, _, err := fsutil.TrimTornTail(r.f)
	if err != nil {
		return err
	}
	if size == 0 {
		return r.writeLine(fmt.Appendf(nil, `{"kind":%q,"v":%d}`, Kind, Version))
	}
	runs, err := countRuns(io.NewSectionReader(r.f, 0, size))
	r.run = runs
	return err
}

func countRuns(rd io.Reader) (int, error) {
	lr := fsutil.NewLineReader(rd, 0)
	n, first := 0, true
	for {
		line, _, _, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if first && !isHeader(line) {
			return n, ErrNotTimeline
		}
		first = false
		if bytes.HasPrefix(line, []byte(`{"run":`)) {
			n++
		}
	}
}

func isHeader(line []byte) bool {
	var h struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(line, &h) == nil && h.Kind == Kind
}

// Meter wraps l, counting its calls under category. Call it before Start.
func (r *Recorder) Meter(category string, l Limiter) *Meter {
	m := &Meter{category: category, lim: l, hist: &r.hist}
	r.meters = append(r.meters, m)
	return m
}

// Path is the timeline's file.
func (r *Recorder) Path() string { return r.path }

// Start writes the run's marker and samples every second until Close.
func (r *Recorder) Start(ctx context.Context) error {
	r.run++
	cats := make([]string, len(r.meters))
	for i, m := range r.meters {
		cats[i] = m.category
	}
	line, err := json.Marshal(runLine{Run: r.run, At: r.o.Now().UTC(), Resume: r.o.Resume, Categories: cats})
	if err != nil {
		return fmt.Errorf("timeline run line: %w", err)
	}
	if err := r.writeLine(line); err != nil {
		return err
	}
	tick := r.o.Tick
	var t *time.Ticker
	if tick == nil {
		t = time.NewTicker(time.Second)
		tick = t.C
	}
	ctx, r.stop = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		if t != nil {
			defer t.Stop()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick:
				_ = r.sample(now) // sticky: Close reports it
			}
		}
	}()
	return nil
}

// Close stops sampling, writes the last (partial) second and the run's
// end with its status (finished, interrupted, aborted), syncs and closes.
// A timeline that could not be written is an error here, never earlier:
// it must not stop the run.
func (r *Recorder) Close(status string) error {
	if r.stop != nil {
		r.stop()
		<-r.done
		_ = r.sample(r.o.Now())
		line, _ := json.Marshal(endLine{End: status, At: r.o.Now().UTC()})
		_ = r.writeLine(line)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.err
	if err == nil {
		if serr := r.f.Sync(); serr != nil {
			err = fmt.Errorf("sync timeline: %w", serr)
		}
	}
	if cerr := r.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close timeline: %w", cerr)
	}
	return err
}

// sample writes what the meters counted since the last sample.
func (r *Recorder) sample(now time.Time) error {
	b := r.encodeSample(now)
	return r.writeLine(b)
}

func (r *Recorder) encodeSample(now time.Time) []byte {
	// The partial second Close writes may fall in the second the last
	// tick named: it is the next one, so no second is counted twice.
	t := max(now.Unix(), r.lastT+1)
	r.lastT = t
	s := Sample{T: t, Latency: r.hist.take(), Cats: make([]Counts, len(r.meters))}
	for i, m := range r.meters {
		s.Cats[i] = m.take()
		s.InFlight += s.Cats[i].InFlight
	}
	return AppendSample(nil, &s)
}

func (r *Recorder) writeLine(line []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.buf = append(append(r.buf[:0], line...), '\n')
	if _, err := r.f.Write(r.buf); err != nil {
		r.err = fmt.Errorf("write timeline: %w", err)
		return r.err
	}
	r.unsynced++
	if r.unsynced >= r.o.SyncEvery {
		r.unsynced = 0
		if err := r.f.Sync(); err != nil {
			r.err = fmt.Errorf("sync timeline: %w", err)
			return r.err
		}
	}
	return nil
}

// runLine starts each run's part of the file.
type runLine struct {
	Run        int       `json:"run"`
	At         time.Time `json:"at"`
	Resume     bool      `json:"resume,omitempty"`
	Categories []string  `json:"categories"`
}

// endLine ends a run that ended by itself.
type endLine struct {
	End string    `json:"end"`
	At  time.Time `json:"at"`
}

// Counts is one category's second.
type Counts struct {
	Sent      int // calls given a token
	OK        int // answered without throttling
	Throttled int // answered TooManyRequestsException
	Failed    int // other errors, timeouts, resets
	Rate      float64
	InFlight  int // at the end of the second; summed into Sample.InFlight
}

// Sample is one second of one run.
type Sample struct {
	T        int64 // Unix seconds at the end of the second
	InFlight int
	Latency  [3]float64 // p50, p90, p99 in ms of the calls answered
	Cats     []Counts   // in the order of the run's categories
}

// AppendSample encodes s as one compact JSON array:
// [t,in_flight,p50,p90,p99, sent,ok,throttled,failed,rate, ...per category].
// About 50 bytes a second for two categories: 12 hours stay near 2 MB.
func AppendSample(dst []byte, s *Sample) []byte {
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, s.T, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(s.InFlight), 10)
	for _, l := range s.Latency {
		dst = append(dst, ',')
		dst = appendNum(dst, l)
	}
	for _, c := range s.Cats {
		for _, n := range []int{c.Sent, c.OK, c.Throttled, c.Failed} {
			dst = append(dst, ',')
			dst = strconv.AppendInt(dst, int64(n), 10)
		}
		dst = append(dst, ',')
		dst = appendNum(dst, c.Rate)
	}
	return append(dst, ']')
}

// appendNum writes v with at most two decimals.
func appendNum(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, float64(int64(v*100+0.5))/100, 'f', -1, 64)
}
