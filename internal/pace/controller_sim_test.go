package pace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The simulator below checks the auto mode against the problem it exists
// for (issue 9): the UserUpdate quota is a server-side token bucket (rate Q,
// burst Q) shared with production traffic P(t); a request that finds the
// bucket empty is throttled, a production one included. The job must finish
// close to the ideal time (rows / (Q - P) integrated) while being throttled
// rarely and leaving production almost untouched. Everything is
// deterministic: a fake clock stepped in 1ms increments, production calls
// evenly spaced, job calls paced by a burst-1 limiter at the controller's
// rate, each reaching the server after a network delay that varies (seeded,
// so still deterministic: without it, a job paced at exactly the refill rate
// phase-locks with the bucket and wins every token without ever being
// throttled), and each answer reaching the controller one latency later.

type phase struct {
	until time.Duration // end of this phase (the last phase lasts forever)
	prod  float64       // production calls per second
}

type scenario struct {
	name    string
	quota   float64
	burst   float64
	prod    []phase
	rows    int
	latency time.Duration // request sent to answer received
	jitter  time.Duration // one-way delay varies uniformly in [0, jitter)
	// prodExact makes production calls reach the server exactly evenly
	// spaced, as the fake's production traffic does (internal/fakecognito
	// takes its tokens in-process, with no network delay).
	prodExact bool
	// jobJitter delays each job call by a random part of jobJitter gaps,
	// as Limiter.Spread does (0: evenly paced).
	jobJitter float64
	max       float64
	seed      uint64 // of the delay jitter
}

func (sc scenario) prodAt(t time.Duration) float64 {
	for _, p := range sc.prod {
		if t < p.until {
			return p.prod
		}
	}
	return sc.prod[len(sc.prod)-1].prod
}

type simResult struct {
	finish, ideal          time.Duration
	jobCalls, jobThrottled int
	prodCalls, prodFailed  int
	cuts                   int
	trace                  []string // rate and free share once per 5s
}

func (r simResult) slowdown() float64 { return r.finish.Seconds()/r.ideal.Seconds() - 1 }
func (r simResult) jobThrottleRate() float64 {
	return float64(r.jobThrottled) / float64(r.jobCalls)
}
func (r simResult) prodServed() float64 {
	if r.prodCalls == 0 {
		return 1
	}
	return 1 - float64(r.prodFailed)/float64(r.prodCalls)
}

func (r simResult) String() string {
	return fmt.Sprintf("finish %.1fs ideal %.1fs (%+.1f%%), job calls %d throttled %d (%.2f%%), production %d failed %d (served %.2f%%), cuts %d",
		r.finish.Seconds(), r.ideal.Seconds(), 100*r.slowdown(), r.jobCalls, r.jobThrottled, 100*r.jobThrottleRate(),
		r.prodCalls, r.prodFailed, 100*r.prodServed(), r.cuts)
}

type pending struct {
	at   time.Time
	kind EventKind // of an answer to the job
	prod bool      // a production call on its way to the server
}

// insert keeps q ordered by time.
func insert(q []pending, p pending) []pending {
	i := len(q)
	for i > 0 && q[i-1].at.After(p.at) {
		i--
	}
	q = append(q, pending{})
	copy(q[i+1:], q[i:])
	q[i] = p
	return q
}

func simulate(sc scenario, ctrl Controller) simResult {
	const dt = time.Millisecond
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var res simResult

	// Ideal: the job uses exactly the free share, Q - P(t).
	done := 0.0
	for t := time.Duration(0); done < float64(sc.rows); t += dt {
		done += (sc.quota - sc.prodAt(t)) * dt.Seconds()
		res.ideal = t + dt
	}

	st := ctrl.Start(t0)
	tokens := sc.burst    // the server's bucket starts full
	prodPhase := 0.0      // production calls owed
	jobTokens := 1.0      // the job's limiter, burst 1
	var inbound []pending // calls on their way to the server
	var queue []pending   // answers on their way back
	rng := rand.New(rand.NewPCG(sc.seed, 2))
	jrng := rand.New(rand.NewPCG(sc.seed, 3))
	succeeded := 0
	lastProd, lastJob := 0, 0
	for t := time.Duration(0); succeeded < sc.rows && t < 20*res.ideal; t += dt {
		now := t0.Add(t)
		tokens = math.Min(sc.burst, tokens+sc.quota*dt.Seconds())

		// Production calls leave evenly spaced and, like the job's, reach
		// the server after a varying delay.
		prodPhase += sc.prodAt(t) * dt.Seconds()
		for prodPhase >= 1 {
			prodPhase--
			delay := time.Duration(rng.Int64N(int64(sc.jitter)))
			if sc.prodExact {
				delay = 0
			}
			inbound = insert(inbound, pending{at: now.Add(delay), prod: true})
		}
		for len(inbound) > 0 && !inbound[0].at.After(now) {
			call := inbound[0]
			inbound = inbound[1:]
			ok := tokens >= 1
			if ok {
				tokens--
			}
			switch {
			case call.prod:
				res.prodCalls++
				if !ok {
					res.prodFailed++
				}
			case ok:
				succeeded++
				queue = insert(queue, pending{at: call.at.Add(sc.latency), kind: Success})
			default:
				res.jobThrottled++
				queue = insert(queue, pending{at: call.at.Add(sc.latency), kind: Throttle})
			}
		}

		for len(queue) > 0 && !queue[0].at.After(now) {
			st = ctrl.Next(st, Event{Kind: queue[0].kind, Latency: sc.latency}, queue[0].at)
			queue = queue[1:]
		}
		st = ctrl.Next(st, Event{Kind: Tick}, now)

		jobTokens = math.Min(1, jobTokens+st.Rate*dt.Seconds())
		if jobTokens >= 1 {
			jobTokens--
			res.jobCalls++
			delay := time.Duration(rng.Int64N(int64(sc.jitter)))
			if sc.jobJitter > 0 {
				// The limiter's spread: a random part of one gap.
				delay += time.Duration(jrng.Float64() * min(sc.jobJitter/st.Rate, 1) * float64(time.Second))
			}
			inbound = insert(inbound, pending{at: now.Add(delay)})
		}
		if t%(5*time.Second) == 0 {
			res.trace = append(res.trace, fmt.Sprintf("%3.0fs %4.1f/%4.1f p%d j%d", t.Seconds(), st.Rate, sc.quota-sc.prodAt(t), res.prodFailed-lastProd, res.jobThrottled-lastJob))
			lastProd, lastJob = res.prodFailed, res.jobThrottled
		}
		res.finish = t + dt
	}
	res.cuts = st.Cuts
	return res
}

// Issue 9's schedule: production 5/s, then 15/s for 40s, then 5/s again.
var stepScenario = scenario{
	name:    "production steps 5-15-5/s",
	quota:   25,
	burst:   25,
	prod:    []phase{{40 * time.Second, 5}, {80 * time.Second, 15}, {0, 5}},
	rows:    3000,
	latency: 50 * time.Millisecond,
	jitter:  20 * time.Millisecond,
	max:     25,
}

// The free share collapses to a fifth and comes back.
var dropScenario = scenario{
	name:    "free share drops to 5/s and recovers",
	quota:   25,
	burst:   25,
	prod:    []phase{{30 * time.Second, 5}, {60 * time.Second, 20}, {0, 5}},
	rows:    3000,
	latency: 50 * time.Millisecond,
	jitter:  20 * time.Millisecond,
	max:     25,
}

// Production holds steady at a fifth of the quota.
var steadyScenario = scenario{
	name:    "steady production 5/s",
	quota:   25,
	burst:   25,
	prod:    []phase{{0, 5}},
	rows:    3000,
	latency: 50 * time.Millisecond,
	jitter:  20 * time.Millisecond,
	max:     25,
}

// An account that bought four times the default quota and said so with
// --max-rate: the controller must behave the same at scale.
var largeScenario = scenario{
	name:    "quota 100/s, production steps 20-60-20/s",
	quota:   100,
	burst:   100,
	prod:    []phase{{40 * time.Second, 20}, {80 * time.Second, 60}, {0, 20}},
	rows:    12000,
	latency: 50 * time.Millisecond,
	jitter:  20 * time.Millisecond,
	max:     100,
}

// No production at all: the job has the whole quota.
var quietScenario = scenario{
	name:    "no production",
	quota:   25,
	burst:   25,
	prod:    []phase{{0, 0}},
	rows:    3000,
	latency: 50 * time.Millisecond,
	jitter:  20 * time.Millisecond,
	max:     25,
}

// The benchmark's row 2 (scripts/bench): 1,500 rows, production stepping
// 5-15-5/s, and production calls taking their tokens exactly evenly spaced,
// as the fake's do. Evenly arriving production is the hard case for
// production: see Limiter.Spread.
var benchScenario = scenario{
	name:      "make bench row 2, production exactly even",
	quota:     25,
	burst:     25,
	prod:      []phase{{40 * time.Second, 5}, {80 * time.Second, 15}, {0, 5}},
	rows:      1500,
	latency:   55 * time.Millisecond,
	jitter:    10 * time.Millisecond,
	max:       25,
	prodExact: true,
}

// simSeeds are the jitter seeds every scenario runs with.
const simSeeds = 8

// TestAuto_Simulated asserts issue 9's targets on the scenarios it was
// first tuned on: at most 2% of the job's calls throttled, at least 98% of
// production served, and a finish within 10% of the ideal time (it was 4%:
// issue 15 retuned on the whole matrix, where probing less often kept
// production at random served, and these evenly arriving scenarios paid a
// few percent for it; 10% is the matrix's goal per cell). Production
// served is judged over all seeds, as the matrix judges a cell, with a
// floor of 97% per seed: since a shrunk share is re-probed at the level
// it had before (issue 15), one seed of the benchmark's row, whose
// evenly arriving production loses to an even job above the share,
// kept 97.7% (the eight together 98.9%).
func TestAuto_Simulated(t *testing.T) {
	tests := []struct {
		scenario
		maxSlowdown     float64
		maxJobThrottled float64
		minProdServed   float64
	}{
		{scenario: stepScenario, maxSlowdown: 0.10, maxJobThrottled: 0.02, minProdServed: 0.98},
		{scenario: dropScenario, maxSlowdown: 0.10, maxJobThrottled: 0.02, minProdServed: 0.98},
		{scenario: steadyScenario, maxSlowdown: 0.10, maxJobThrottled: 0.02, minProdServed: 0.98},
		{scenario: largeScenario, maxSlowdown: 0.10, maxJobThrottled: 0.02, minProdServed: 0.98},
		{scenario: benchScenario, maxSlowdown: 0.10, maxJobThrottled: 0.02, minProdServed: 0.98},
		// Alone, the job stops at the ceiling (90% of --max-rate): 11% slower
		// than taking the whole quota, on purpose (see Config.Ceiling),
		// plus the climb from half the maximum.
		{scenario: quietScenario, maxSlowdown: 0.14, maxJobThrottled: 0, minProdServed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prodCalls, prodFailed int
			for seed := uint64(1); seed <= simSeeds; seed++ {
				sc := tt.scenario
				sc.seed, sc.jobJitter = seed, DefaultSpread
				res := simulate(sc, New(AutoConfig(sc.max)))
				t.Logf("seed %d: %v", seed, res)
				if seed == 1 {
					t.Logf("rate/free, production failed, job throttled per 5s: %s", strings.Join(res.trace, " | "))
				}
				if res.slowdown() > tt.maxSlowdown {
					t.Errorf("seed %d: finished %.1f%% after the ideal time, want at most %.0f%%", seed, 100*res.slowdown(), 100*tt.maxSlowdown)
				}
				if res.jobThrottleRate() > tt.maxJobThrottled {
					t.Errorf("seed %d: %.2f%% of job calls throttled, want at most %.0f%%", seed, 100*res.jobThrottleRate(), 100*tt.maxJobThrottled)
				}
				if res.prodServed() < tt.minProdServed-0.01 {
					t.Errorf("seed %d: production served %.2f%%, want at least %.0f%%", seed, 100*res.prodServed(), 100*(tt.minProdServed-0.01))
				}
				prodCalls += res.prodCalls
				prodFailed += res.prodFailed
			}
			all := simResult{prodCalls: prodCalls, prodFailed: prodFailed}
			if all.prodServed() < tt.minProdServed {
				t.Errorf("production served %.2f%% over %d seeds, want at least %.0f%%", 100*all.prodServed(), simSeeds, 100*tt.minProdServed)
			}
		})
	}
}

// TestFixed_Simulated shows why --rate auto exists: a fixed rate that fits
// the quiet phase overloads the quota when production rises; the cut and
// recovery only soften it. It pins the fixed mode's behaviour: it never
// exceeds the asked rate, it backs off under throttling, and it does
// better for production than ignoring throttles altogether.
func TestFixed_Simulated(t *testing.T) {
	sc := stepScenario
	sc.seed = 1
	fixed := simulate(sc, New(FixedConfig(20)))
	deaf := simulate(sc, New(Config{Rate: 20, Beta: 0.999, Recover: time.Millisecond, Threshold: 1e9}))
	t.Logf("fixed 20/s: %v", fixed)
	t.Logf("fixed 20/s ignoring throttles: %v", deaf)
	if fixed.cuts == 0 {
		t.Error("fixed mode never cut its rate while production rose")
	}
	if fixed.prodFailed >= deaf.prodFailed {
		t.Errorf("backing off failed %d production calls, ignoring throttles %d: want fewer", fixed.prodFailed, deaf.prodFailed)
	}
	if fixed.jobThrottled >= deaf.jobThrottled {
		t.Errorf("backing off throttled %d job calls, ignoring throttles %d: want fewer", fixed.jobThrottled, deaf.jobThrottled)
	}
}

// TestSpread_Simulated shows why Limiter.Spread exists: against production
// that arrives exactly evenly, an evenly paced job that has drained the
// bucket wins the tokens production's calls wait for and is rarely
// throttled itself, so it does not back off. Spread calls are throttled in
// proportion and production keeps more of its calls, at little cost in time.
func TestSpread_Simulated(t *testing.T) {
	for _, base := range []scenario{benchScenario, {
		name: "steady production 5/s, exactly even", quota: 25, burst: 25, prod: []phase{{0, 5}},
		rows: 3000, latency: 50 * time.Millisecond, jitter: 20 * time.Millisecond, max: 25, prodExact: true,
	}} {
		t.Run(base.name, func(t *testing.T) {
			var failed [2]int
			var finish [2]time.Duration
			for i, spread := range []float64{0, DefaultSpread} {
				for seed := uint64(1); seed <= simSeeds; seed++ {
					sc := base
					sc.seed, sc.jobJitter = seed, spread
					res := simulate(sc, New(AutoConfig(sc.max)))
					failed[i] += res.prodFailed
					finish[i] += res.finish
				}
			}
			t.Logf("production calls failed over %d seeds: %d evenly paced, %d spread; total time %v and %v",
				simSeeds, failed[0], failed[1], finish[0], finish[1])
			// A third fewer under the first tuning; a little under that
			// since issue 15's (48 against 70 on the benchmark's row).
			if failed[1]*4 > failed[0]*3 {
				t.Errorf("spread failed %d production calls, evenly paced %d: want at least a quarter fewer", failed[1], failed[0])
			}
			// 2% until issue 15's re-probe of a shrunk share at its old
			// level: a spread job is throttled in proportion, so it cuts
			// and re-probes more often than an even one that wins its
			// tokens from production; on the benchmark's row that took
			// 2.4% longer, for 55% fewer production calls failed.
			if finish[1] > finish[0]*103/100 {
				t.Errorf("spread took %v, evenly paced %v: want no more than 3%% longer", finish[1], finish[0])
			}
		})
	}
}
