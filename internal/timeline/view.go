package timeline

import (
	"math"
	"slices"
	"time"
)

// View is one or more timelines (a run's, or each shard's of a job) summed
// second by second and cut into at most MaxPoints bins for drawing.
type View struct {
	Start, End time.Time // first and last second recorded
	Bin        int       // seconds per point
	Categories []string  // every category met, first met first
	Points     []Point   // one per bin from Start; Empty where no run was
	Resumes    []time.Time
	Runs       int
	Totals     Totals
}

// Point is one bin: per-second means of the seconds recorded in it, and
// the worst latency.
type Point struct {
	T         time.Time
	Empty     bool      // no run was recording (between an interruption and its resume)
	Sent      []float64 // calls/s by category
	Rate      []float64 // limiter rate by category (summed over shards)
	Throttled float64   // throttles/s, every category
	Failed    float64
	InFlight  float64
	P50, P99  float64 // ms
}

// Totals are sums over every second.
type Totals struct {
	Sent, OK, Throttled, Failed int
	Seconds                     int
	MaxP99                      float64
}

type second struct {
	sent, rate      []float64
	thr, fail, inFl float64
	p50, p99        float64
	recorded        bool
}

// NewView sums tls and bins them into at most maxPoints points.
func NewView(tls []*Timeline, maxPoints int) *View {
	v := &View{}
	idx := map[string]int{}
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	for _, tl := range tls {
		for _, r := range tl.Runs {
			v.Runs++
			if r.Resume {
				v.Resumes = append(v.Resumes, r.At)
			}
			for _, c := range r.Categories {
				if _, ok := idx[c]; !ok {
					idx[c] = len(v.Categories)
					v.Categories = append(v.Categories, c)
				}
			}
			for _, s := range r.Samples {
				lo, hi = min(lo, s.T), max(hi, s.T)
			}
		}
	}
	slices.SortFunc(v.Resumes, func(a, b time.Time) int { return a.Compare(b) })
	if lo > hi {
		return v
	}
	secs := make([]second, hi-lo+1)
	nc := len(v.Categories)
	for _, tl := range tls {
		for _, r := range tl.Runs {
			for _, s := range r.Samples {
				v.addSecond(&secs[s.T-lo], s, r.Categories, idx, nc)
			}
		}
	}
	v.Start, v.End = time.Unix(lo, 0), time.Unix(hi, 0)
	v.Bin = max(1, (len(secs)+maxPoints-1)/max(maxPoints, 1))
	for i := 0; i < len(secs); i += v.Bin {
		v.Points = append(v.Points, bin(secs[i:min(i+v.Bin, len(secs))], time.Unix(lo+int64(i), 0), nc))
	}
	return v
}

func (v *View) addSecond(sec *second, s Sample, cats []string, idx map[string]int, nc int) {
	if !sec.recorded {
		sec.recorded = true
		sec.sent, sec.rate = make([]float64, nc), make([]float64, nc)
		v.Totals.Seconds++
	}
	for i, c := range s.Cats {
		if i >= len(cats) {
			break
		}
		k := idx[cats[i]]
		sec.sent[k] += float64(c.Sent)
		sec.rate[k] += c.Rate
		sec.thr += float64(c.Throttled)
		sec.fail += float64(c.Failed)
		v.Totals.Sent += c.Sent
		v.Totals.OK += c.OK
		v.Totals.Throttled += c.Throttled
		v.Totals.Failed += c.Failed
	}
	sec.inFl += float64(s.InFlight)
	sec.p50 = max(sec.p50, s.Latency[0])
	sec.p99 = max(sec.p99, s.Latency[2])
	v.Totals.MaxP99 = max(v.Totals.MaxP99, s.Latency[2])
}

// Used reports whether category k sent any call.
func (v *View) Used(k int) bool {
	for _, p := range v.Points {
		if k < len(p.Sent) && p.Sent[k] > 0 {
			return true
		}
	}
	return false
}

func bin(secs []second, t time.Time, nc int) Point {
	p := Point{T: t, Sent: make([]float64, nc), Rate: make([]float64, nc)}
	n := 0
	for _, s := range secs {
		if !s.recorded {
			continue
		}
		n++
		for k := range nc {
			p.Sent[k] += s.sent[k]
			p.Rate[k] += s.rate[k]
		}
		p.Throttled += s.thr
		p.Failed += s.fail
		p.InFlight += s.inFl
		p.P50 = max(p.P50, s.p50)
		p.P99 = max(p.P99, s.p99)
	}
	if n == 0 {
		p.Empty = true
		return p
	}
	f := float64(n)
	for k := range nc {
		p.Sent[k] /= f
		p.Rate[k] /= f
	}
	p.Throttled /= f
	p.Failed /= f
	p.InFlight /= f
	return p
}
