package sim

import (
	"math"
	"sync"
	"time"
)

// Goals a job is held to: production keeps 98% of its calls, the job
// itself is throttled on at most 2% of its own.
const (
	MinProdServed   = 0.98
	MaxJobThrottled = 0.02
)

// Oracle finds, in hindsight, the best fixed rate for each phase of a
// schedule: the highest that keeps production served at its target, each
// phase measured in a long steady state of its own. (It does not look at
// the job's own throttles: at a depth of 1, no rate keeps them under 2%.) It knows what no controller is told (the
// bucket's depth, production's pattern and schedule), so it bounds what
// was achievable. Searches are cached: cells share phases.
type Oracle struct {
	// Steady is how long each candidate rate is measured, per seed.
	Steady time.Duration
	Seeds  int

	mu    sync.Mutex
	cache map[oracleKey]PhaseRate
}

// NewOracle measures each candidate over 4 seeds of 3 minutes.
func NewOracle() *Oracle {
	return &Oracle{Steady: 3 * time.Minute, Seeds: 4, cache: map[oracleKey]PhaseRate{}}
}

type oracleKey struct {
	quota, depth, prod float64
	pattern            Pattern
	latency, jitter    time.Duration
	spread             float64
}

// PhaseRate is the oracle's answer for one phase.
type PhaseRate struct {
	Rate float64
	// Target is the production served it had to keep: MinProdServed, or,
	// where production alone loses more than 1% of its calls (a bucket too
	// shallow for its bursts), what production alone keeps less 0.01.
	Target float64
	// Alone is production served with no job at all.
	Alone float64
}

// Rates returns the best fixed rate of each phase of sc.
func (o *Oracle) Rates(sc Scenario) []PhaseRate {
	out := make([]PhaseRate, len(sc.Phases))
	for i, p := range sc.Phases {
		out[i] = o.phase(sc, p.Prod)
	}
	return out
}

// OracleLimit is how long, in multiples of the ideal time, an oracle's run
// may take (unless sc.Limit says otherwise). A run cut off at the usual 20x
// reported 20x for an oracle that needs 50x (a bucket one call deep), and a
// cell's goal of 1.05x that understated what its oracle achieves; 100x only
// bounds the work where a phase's best rate is about zero.
const OracleLimit = 100

// Run plays sc with the oracle's rates and returns the result and the
// production target it was held to (the lowest of its phases').
func (o *Oracle) Run(sc Scenario) (Result, float64) {
	if sc.Limit <= 0 {
		sc.Limit = OracleLimit * sc.Ideal()
	}
	rates := o.Rates(sc)
	f := Fixed{Phases: sc.Phases, Rates: make([]float64, len(rates))}
	target := 1.0
	for i, r := range rates {
		f.Rates[i] = r.Rate
		target = math.Min(target, r.Target)
	}
	return Run(sc, f), target
}

func (o *Oracle) phase(sc Scenario, prod float64) PhaseRate {
	key := oracleKey{sc.Quota, sc.Depth, prod, sc.Pattern, sc.Latency, sc.Jitter, sc.Spread}
	o.mu.Lock()
	pr, ok := o.cache[key]
	o.mu.Unlock()
	if ok {
		return pr
	}
	pr = o.search(sc, prod)
	o.mu.Lock()
	o.cache[key] = pr
	o.mu.Unlock()
	return pr
}

// search bisects on the rate: production served is (noisily) monotonic
// in it.
func (o *Oracle) search(sc Scenario, prod float64) PhaseRate {
	alone := o.measure(sc, prod, 0)
	pr := PhaseRate{Alone: alone.ProdServed(), Target: MinProdServed}
	if pr.Alone < MinProdServed+0.01 {
		pr.Target = pr.Alone - 0.01
	}
	fits := func(r float64) bool {
		res := o.measure(sc, prod, r)
		return res.ProdServed() >= pr.Target
	}
	lo, hi := 0.0, sc.Quota
	for range 12 {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	pr.Rate = lo
	return pr
}

// measure runs a job at rate r against steady production for o.Steady per
// seed and sums the seeds.
func (o *Oracle) measure(sc Scenario, prod, r float64) Result {
	var sum Result
	for seed := 1; seed <= o.Seeds; seed++ {
		s := sc
		s.Phases = []Phase{{Prod: prod}}
		s.Rows = math.MaxInt32
		s.Limit = o.Steady
		s.Seed = uint64(seed) * 7919
		// A steady state banks nothing: from a full bucket, a rate a
		// little over the free share would go unnoticed for depth/excess
		// seconds (minutes, for a deep bucket), and look like a fit.
		s.Empty = true
		res := Run(s, Fixed{Phases: s.Phases, Rates: []float64{r}})
		sum.JobCalls += res.JobCalls
		sum.JobThrottled += res.JobThrottled
		sum.ProdCalls += res.ProdCalls
		sum.ProdFailed += res.ProdFailed
	}
	return sum
}
