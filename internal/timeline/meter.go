// Package timeline records what a run did each second, in a file beside
// its checkpoint, and reads it back for `cogsweep report`: calls sent and
// ended per quota category, throttles, the limiter's rate, calls in
// flight, latency percentiles.
//
// The counts come from Meters that wrap the pipeline's limiters: every
// attempt already passes through its limiter (a token before it, a
// throttle or a success after it), so counting there adds no call and no
// lock to the worker path, only a few atomic adds. A sampler goroutine
// reads and resets the counters once a second.
//
// It may import fsutil; internal/run records a timeline and reportpage reads
// one.
package timeline

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// Limiter is the pipeline's pacing interface (batch.Limiter).
type Limiter interface {
	Wait(ctx context.Context) error
	Throttled()
	Succeeded(latency time.Duration)
	Rate() float64
}

// Meter is a Limiter that counts the calls passing through the one it
// wraps. Its methods are safe for concurrent use.
type Meter struct {
	category string
	lim      Limiter
	hist     *histogram

	sent, ok, throttled, failed atomic.Int64 // since the last sample
	inFlight                    atomic.Int64
}

// Wait takes a token; once it is granted the call is on its way.
func (m *Meter) Wait(ctx context.Context) error {
	if err := m.lim.Wait(ctx); err != nil {
		return err
	}
	m.sent.Add(1)
	m.inFlight.Add(1)
	return nil
}

// Throttled counts a call answered TooManyRequestsException.
func (m *Meter) Throttled() {
	m.lim.Throttled()
	m.throttled.Add(1)
	m.inFlight.Add(-1)
}

// Succeeded counts a call answered without throttling.
func (m *Meter) Succeeded(latency time.Duration) {
	m.lim.Succeeded(latency)
	m.ok.Add(1)
	m.inFlight.Add(-1)
	m.hist.observe(latency)
}

// Failed counts a call that ended otherwise: an error other than a
// throttle, a timeout, a reset, a cancellation.
func (m *Meter) Failed() {
	m.failed.Add(1)
	m.inFlight.Add(-1)
}

// Rate is the wrapped limiter's rate.
func (m *Meter) Rate() float64 { return m.lim.Rate() }

// Category is the quota category the meter counts (UserUpdate, ...).
func (m *Meter) Category() string { return m.category }

// take returns the counts since the last take and resets them.
func (m *Meter) take() Counts {
	return Counts{
		Sent: int(m.sent.Swap(0)), OK: int(m.ok.Swap(0)), Throttled: int(m.throttled.Swap(0)),
		Failed: int(m.failed.Swap(0)), Rate: m.lim.Rate(), InFlight: int(max(m.inFlight.Load(), 0)),
	}
}

// The latency histogram: bucket i holds latencies up to histBase*2^(i/4),
// a quarter-octave apart (a percentile is off by at most 19%), from
// 100 µs to over 25 minutes in 96 buckets.
const (
	histBuckets = 96
	histBase    = 100 * time.Microsecond
)

type histogram struct{ b [histBuckets]atomic.Int64 }

func bucketOf(d time.Duration) int {
	if d <= histBase {
		return 0
	}
	i := int(math.Ceil(4 * math.Log2(float64(d)/float64(histBase))))
	return min(i, histBuckets-1)
}

func bucketBound(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Exp2(float64(i)/4))
}

func (h *histogram) observe(d time.Duration) { h.b[bucketOf(d)].Add(1) }

// take returns the p50, p90 and p99 of the latencies since the last take,
// in milliseconds (zeros when there were none), and resets the histogram.
func (h *histogram) take() [3]float64 {
	var counts [histBuckets]int64
	var n int64
	for i := range h.b {
		counts[i] = h.b[i].Swap(0)
		n += counts[i]
	}
	var out [3]float64
	if n == 0 {
		return out
	}
	for k, q := range []float64{0.50, 0.90, 0.99} {
		rank := int64(math.Ceil(q * float64(n)))
		var seen int64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				out[k] = float64(bucketBound(i)) / float64(time.Millisecond)
				break
			}
		}
	}
	return out
}
