// Package sim simulates a batch job sharing a request quota with production
// traffic, on a fake clock: the server's token bucket, production calls
// arriving evenly, at random or in bursts, the job's calls paced by a
// Pacer (a pace.Controller, or a fixed rate per phase), network latency,
// and the answers that reach the Pacer. It is pure and deterministic for a
// seed, so that the rate controller can be judged on many scenarios in
// seconds (internal/pace's matrix test) and the hindsight oracle of the
// benchmark can be searched for.
//
// It may import pace; only tests and scripts/bench import it.
package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pattern is how production's calls arrive at a given mean rate.
type Pattern int

const (
	// Even spaces production's calls exactly (the fake's default).
	Even Pattern = iota
	// Poisson draws exponential gaps: calls arrive at random.
	Poisson
	// Bursty sends BurstFactor times the mean rate, at random, for
	// BurstOn out of every BurstPeriod, and nothing in between.
	Bursty
)

func (p Pattern) String() string {
	switch p {
	case Even:
		return "even"
	case Poisson:
		return "poisson"
	case Bursty:
		return "bursty"
	}
	return "?"
}

// The bursty pattern: 2 s at 3x the mean rate, then 4 s quiet.
const (
	BurstFactor = 3.0
	BurstOn     = 2 * time.Second
	BurstPeriod = 6 * time.Second
)

// Phase is a stretch of the schedule: production's mean rate until Until
// (measured from the start; the last phase lasts forever).
type Phase struct {
	Until time.Duration
	Prod  float64
}

// Scenario is one run to simulate.
type Scenario struct {
	Quota   float64       // the bucket's refill, calls per second
	Depth   float64       // the bucket's depth, calls (at least 1)
	Pattern Pattern       // how production's calls arrive
	Phases  []Phase       // production's mean rate over time
	Rows    int           // calls the job must get answered without throttling
	Latency time.Duration // call sent to answer received
	Jitter  time.Duration // each one-way delay varies by up to this
	// Spread delays each job call after its token by a random part of
	// Spread gaps, as pace.Limiter.Spread does.
	Spread float64
	Seed   uint64
	// Limit ends a run that has not finished by then (0: DefaultLimit x
	// the ideal).
	Limit time.Duration
	// Empty starts the server's bucket empty instead of full.
	Empty bool
}

// ProdAt is production's mean rate at t.
func (sc Scenario) ProdAt(t time.Duration) float64 {
	return sc.Phases[sc.phaseAt(t)].Prod
}

func (sc Scenario) phaseAt(t time.Duration) int {
	for i, p := range sc.Phases {
		if t < p.Until {
			return i
		}
	}
	return len(sc.Phases) - 1
}

// phaseEnd is when the phase holding t ends (MaxInt64 for the last).
func (sc Scenario) phaseEnd(t time.Duration) time.Duration {
	i := sc.phaseAt(t)
	if i == len(sc.Phases)-1 {
		return math.MaxInt64
	}
	return sc.Phases[i].Until
}

// Ideal is the time a job taking exactly the free share (quota minus
// production's mean rate) at every moment needs for the rows.
func (sc Scenario) Ideal() time.Duration {
	return finishAt(sc, float64(sc.Rows), func(t time.Duration) float64 { return sc.Quota - sc.ProdAt(t) })
}

// finishAt integrates rate over the schedule, phase by phase, until it
// adds up to rows.
func finishAt(sc Scenario, rows float64, rate func(time.Duration) float64) time.Duration {
	var t time.Duration
	for i, p := range sc.Phases {
		r := math.Max(rate(t), 0)
		if i == len(sc.Phases)-1 {
			if r <= 0 {
				return math.MaxInt64
			}
			return t + time.Duration(rows/r*float64(time.Second))
		}
		span := (p.Until - t).Seconds()
		if r*span >= rows {
			return t + time.Duration(rows/r*float64(time.Second))
		}
		rows -= r * span
		t = p.Until
	}
	return t
}

// Kind is what an answer says.
type Kind int

const (
	// Success is an answered call that found a token.
	Success Kind = iota
	// Throttle is a call refused: the bucket was empty.
	Throttle
)

// Pacer sets the job's rate and hears its answers.
type Pacer interface {
	// Rate is the rate at now, after the answers so far.
	Rate(now time.Duration) float64
	// Answer reports one answer, received at now.
	Answer(k Kind, latency, now time.Duration)
}

// Point is one second of a run.
type Point struct {
	T            time.Duration
	Rate, Free   float64
	JobCalls     int
	JobThrottled int
	ProdCalls    int
	ProdFailed   int
}

// Result is what a run did.
type Result struct {
	Finish, Ideal          time.Duration
	JobCalls, JobThrottled int
	ProdCalls, ProdFailed  int
	Done                   bool // every row was answered before the limit
	Trace                  []Point
}

// TimeRatio is the finish over the ideal time.
func (r Result) TimeRatio() float64 { return r.Finish.Seconds() / r.Ideal.Seconds() }

// JobThrottleRate is the share of the job's calls that were throttled.
func (r Result) JobThrottleRate() float64 {
	if r.JobCalls == 0 {
		return 0
	}
	return float64(r.JobThrottled) / float64(r.JobCalls)
}

// ProdServed is the share of production's calls that found a token.
func (r Result) ProdServed() float64 {
	if r.ProdCalls == 0 {
		return 1
	}
	return 1 - float64(r.ProdFailed)/float64(r.ProdCalls)
}

// Run plays sc with p pacing the job and returns what happened.
func Run(sc Scenario, p Pacer) Result {
	w := newWorld(sc, p)
	return w.run()
}

// world is one run's state: everything moves by events in time order.
type world struct {
	sc  Scenario
	p   Pacer
	res Result
	rng *rand.Rand // network delays and the spread
	prn *rand.Rand // production's arrivals

	now      time.Duration
	tokens   float64 // the server's bucket
	refilled time.Duration

	prodNext time.Duration // production's next call
	jobTok   float64       // the job's limiter, burst 1
	jobLast  time.Duration
	rate     float64
	queue    eventQueue // job calls on their way, answers on theirs
	answered int
	cur      Point
}

func newWorld(sc Scenario, p Pacer) *world {
	if sc.Depth < 1 {
		sc.Depth = 1
	}
	w := &world{
		sc:     sc,
		p:      p,
		rng:    rand.New(rand.NewPCG(sc.Seed, 1)),
		prn:    rand.New(rand.NewPCG(sc.Seed, 2)),
		tokens: sc.Depth,
		jobTok: 1,
	}
	if sc.Empty {
		w.tokens = 0
	}
	w.res.Ideal = sc.Ideal()
	w.prodNext = w.nextProd(0)
	return w
}

func (w *world) run() Result {
	limit := w.sc.Limit
	if limit <= 0 {
		limit = DefaultLimit * w.res.Ideal
	}
	w.rate = w.p.Rate(0)
	for w.answered < w.sc.Rows {
		grant := w.nextGrant()
		next := min(w.prodNext, grant)
		if len(w.queue) > 0 && w.queue[0].at < next {
			next = w.queue[0].at
		}
		if next > limit {
			w.advance(limit)
			break
		}
		w.advance(next)
		switch {
		case len(w.queue) > 0 && w.queue[0].at == next:
			w.handle(w.queue.pop())
		case w.prodNext == next:
			w.production()
		default:
			w.grant()
		}
	}
	w.res.Done = w.answered >= w.sc.Rows
	w.res.Finish = w.now
	w.flush()
	return w.res
}

// advance moves the clock, refilling the bucket and the job's limiter and
// closing the seconds passed in the trace.
func (w *world) advance(t time.Duration) {
	for t >= w.cur.T+time.Second {
		w.flush()
	}
	w.tokens = math.Min(w.sc.Depth, w.tokens+w.sc.Quota*(t-w.refilled).Seconds())
	w.refilled = t
	w.jobTok = math.Min(1, w.jobTok+w.rate*(t-w.jobLast).Seconds())
	w.jobLast = t
	w.now = t
}

func (w *world) flush() {
	w.cur.Rate, w.cur.Free = w.rate, w.sc.Quota-w.sc.ProdAt(w.cur.T)
	w.res.Trace = append(w.res.Trace, w.cur)
	w.cur = Point{T: w.cur.T + time.Second}
}

// nextGrant is when the job's limiter next has a whole token.
func (w *world) nextGrant() time.Duration {
	if w.jobTok >= 1 {
		return w.now
	}
	if w.rate <= 0 {
		return math.MaxInt64
	}
	return w.now + time.Duration(math.Ceil((1-w.jobTok)/w.rate*float64(time.Second)))
}

func (w *world) take() bool {
	if w.tokens >= 1 {
		w.tokens--
		return true
	}
	return false
}

func (w *world) production() {
	w.res.ProdCalls++
	w.cur.ProdCalls++
	if !w.take() {
		w.res.ProdFailed++
		w.cur.ProdFailed++
	}
	w.prodNext = w.nextProd(w.now)
}

// oneWay is a network delay: half the latency, give or take the jitter.
func (w *world) oneWay() time.Duration {
	d := w.sc.Latency / 2
	if w.sc.Jitter > 0 {
		d += time.Duration(w.rng.Int64N(int64(w.sc.Jitter)))
	}
	return d
}

func (w *world) grant() {
	w.jobTok--
	w.res.JobCalls++
	w.cur.JobCalls++
	delay := w.oneWay()
	if w.sc.Spread > 0 && w.rate > 0 {
		most := math.Min(w.sc.Spread/w.rate, 1)
		delay += time.Duration(w.rng.Float64() * most * float64(time.Second))
	}
	w.queue.push(event{at: w.now + delay, sent: w.now, arrive: true})
	w.setRate()
}

func (w *world) handle(e event) {
	if e.arrive {
		k := Success
		if !w.take() {
			k = Throttle
			w.res.JobThrottled++
			w.cur.JobThrottled++
		}
		w.queue.push(event{at: w.now + w.oneWay(), sent: e.sent, kind: k})
		return
	}
	if e.kind == Success {
		w.answered++
	}
	w.p.Answer(e.kind, w.now-e.sent, w.now)
	w.setRate()
}

func (w *world) setRate() { w.rate = w.p.Rate(w.now) }

// nextProd is production's first call after t.
func (w *world) nextProd(t time.Duration) time.Duration {
	for t < math.MaxInt64/2 {
		rate, until := w.intensity(t)
		if rate <= 0 {
			t = until
			continue
		}
		var gap float64
		if w.sc.Pattern == Even {
			gap = 1 / rate
		} else {
			gap = w.prn.ExpFloat64() / rate
		}
		next := t + time.Duration(gap*float64(time.Second))
		if next < until {
			return next
		}
		// Memoryless: a draw that crosses a change of rate starts again
		// from the change (for even arrivals, a new phase of spacing).
		t = until
	}
	return math.MaxInt64
}

// intensity is production's instantaneous rate at t and when it next
// changes.
func (w *world) intensity(t time.Duration) (float64, time.Duration) {
	mean, until := w.sc.ProdAt(t), w.sc.phaseEnd(t)
	if w.sc.Pattern != Bursty {
		return mean, until
	}
	in := t % BurstPeriod
	if in < BurstOn {
		return mean * BurstFactor, min(until, t-in+BurstOn)
	}
	return 0, min(until, t-in+BurstPeriod)
}

// event is a job call reaching the server (arrive) or its answer
// reaching the job.
type event struct {
	at, sent time.Duration
	arrive   bool
	kind     Kind
}

// eventQueue is a binary min-heap on at.
type eventQueue []event

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].at < h[m].at {
			m = l
		}
		if r < n && h[r].at < h[m].at {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
