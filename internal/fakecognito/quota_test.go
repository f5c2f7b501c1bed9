package fakecognito

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/pace/sim"
)

func TestBucket_Take(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type take struct {
		at   time.Duration
		want bool
	}
	tests := []struct {
		name  string
		quota Quota
		takes []take
	}{
		{"unlimited", Quota{}, []take{{0, true}, {0, true}, {0, true}}},
		{"starts full", Quota{Rate: 1, Burst: 3}, []take{{0, true}, {0, true}, {0, true}, {0, false}}},
		{"burst below 1 is 1", Quota{Rate: 5}, []take{{0, true}, {0, false}, {200 * time.Millisecond, true}}},
		{"ten per second for one second gives exactly ten", Quota{Rate: 10, Burst: 1}, []take{
			{0, true}, {100 * time.Millisecond, true}, {200 * time.Millisecond, true}, {300 * time.Millisecond, true},
			{400 * time.Millisecond, true}, {500 * time.Millisecond, true}, {600 * time.Millisecond, true},
			{700 * time.Millisecond, true}, {800 * time.Millisecond, true}, {900 * time.Millisecond, true},
			{900 * time.Millisecond, false},
		}},
		{"refill is capped at the burst", Quota{Rate: 100, Burst: 2}, []take{
			{0, true}, {0, true}, {time.Hour, true}, {time.Hour, true}, {time.Hour, false},
		}},
		{"fractional rate", Quota{Rate: 0.5, Burst: 1}, []take{
			{0, true}, {1999 * time.Millisecond, false}, {2 * time.Second, true},
		}},
		{"time going back refills nothing", Quota{Rate: 1, Burst: 1}, []take{
			{5 * time.Second, true}, {0, false}, {5 * time.Second, false}, {6 * time.Second, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket(tt.quota, t0)
			for i, tk := range tt.takes {
				if got := b.take(t0.Add(tk.at)); got != tk.want {
					t.Fatalf("take %d at %v = %v, want %v", i, tk.at, got, tk.want)
				}
			}
		})
	}
}

func TestProduction_Schedule(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		quota         Quota
		schedule      []Step
		horizon       time.Duration
		batchAt       []time.Duration // batch job calls taking UserUpdate tokens
		wantServed    int
		wantThrottled int
	}{
		{
			name:  "under the quota nothing is throttled",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}}, horizon: 2 * time.Second,
			// arrivals at 0.2, 0.4, ..., 1.8
			wantServed: 9,
		},
		{
			name:  "a rate step above the quota is throttled half the time",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}, {time.Second, 20}, {2 * time.Second, 0}},
			horizon: 3 * time.Second,
			// 4 arrivals below 1 s; 19 arrivals 50 ms apart from 1.05 s, each
			// refilling half a token: served, then alternately throttled.
			wantServed: 4 + 1 + 9, wantThrottled: 9,
		},
		{
			name:  "a batch job spending the tokens throttles production",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}}, horizon: time.Second,
			// production arrives at 0.2, 0.4, 0.6, 0.8; the batch takes the
			// token refilled just before 0.4 and 0.8.
			batchAt:    []time.Duration{350 * time.Millisecond, 750 * time.Millisecond},
			wantServed: 2, wantThrottled: 2,
		},
		{
			name:  "unlimited quota serves everything",
			quota: Quota{}, schedule: []Step{{0, 1000}}, horizon: time.Second,
			wantServed: 999,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Now: func() time.Time { return t0 }, UserUpdate: tt.quota})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var now time.Duration
			batch := tt.batchAt
			// waitUntil plays the clock forward instead of sleeping, doing
			// the batch job's calls that fall before the next arrival.
			waitUntil := func(ctx context.Context, off time.Duration) bool {
				for len(batch) > 0 && batch[0] <= off && batch[0] < tt.horizon {
					s.Advance(batch[0] - now)
					now = batch[0]
					s.takeQuota(UserUpdate)
					batch = batch[1:]
				}
				if off >= tt.horizon {
					cancel()
					return false
				}
				s.Advance(off - now)
				now = off
				return true
			}
			s.runProduction(ctx, Production{Schedule: tt.schedule}, waitUntil)
			if s.ProductionServed() != tt.wantServed || s.ProductionThrottled() != tt.wantThrottled {
				t.Errorf("served %d throttled %d, want %d and %d",
					s.ProductionServed(), s.ProductionThrottled(), tt.wantServed, tt.wantThrottled)
			}
		})
	}
}

func TestStartProduction_RunsUntilCancelled(t *testing.T) {
	s := New(Options{UserUpdate: Quota{Rate: 1, Burst: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := s.StartProduction(ctx, []Step{{0, 200}})
	deadline := time.Now().Add(10 * time.Second)
	for s.ProductionThrottled() < 3 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no throttled production calls after 10 s (served %d)", s.ProductionServed())
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not waiting for an outcome
	}
	cancel()
	<-done
	if s.ProductionServed() < 1 {
		t.Errorf("served %d production calls, want the burst at least", s.ProductionServed())
	}
}

// arrivals plays p on a fake clock until horizon and returns the offsets of
// production's calls: with no quota every call is served, so a call
// happened at a waitUntil's offset when the served count grew after it.
func arrivals(t *testing.T, p Production, horizon time.Duration) []time.Duration {
	t.Helper()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return t0 }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out []time.Duration
	last, served := time.Duration(-1), 0
	waitUntil := func(ctx context.Context, off time.Duration) bool {
		if n := s.ProductionServed(); n > served {
			if n-served != 1 {
				t.Fatalf("%d calls at %v, want one per wait", n-served, last)
			}
			out = append(out, last)
			served = n
		}
		if off < last {
			t.Fatalf("waited for %v after %v: time went back", off, last)
		}
		if off >= horizon {
			cancel()
			return false
		}
		last = off
		return true
	}
	s.runProduction(ctx, p, waitUntil)
	return out
}

// countIn counts the offsets in [from, to).
func countIn(at []time.Duration, from, to time.Duration) int {
	n := 0
	for _, a := range at {
		if a >= from && a < to {
			n++
		}
	}
	return n
}

func TestProduction_Patterns(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name     string
		p        Production
		horizon  time.Duration
		windows  [][3]float64 // from s, to s, mean calls/s expected there
		tol      float64      // relative tolerance of each window's count
		wantCV   float64      // coefficient of variation of the gaps, if checkCV
		checkCV  bool
		burstsOK bool // every call falls in a burst's on-time
	}{
		{name: "even stays exact", p: Production{Schedule: []Step{{0, 10}}}, horizon: 600 * s,
			windows: [][3]float64{{0, 600, 5999.0 / 600}}, tol: 0, checkCV: true},
		{name: "poisson matches the mean rate", p: Production{Schedule: []Step{{0, 10}}, Pattern: Poisson, Seed: 1},
			horizon: 1000 * s, windows: [][3]float64{{0, 1000, 10}}, tol: 0.04, wantCV: 1, checkCV: true},
		{name: "poisson follows the schedule", p: Production{Schedule: []Step{{0, 5}, {300 * s, 20}, {600 * s, 0}, {700 * s, 15}}, Pattern: Poisson, Seed: 2},
			horizon: 1000 * s, windows: [][3]float64{{0, 300, 5}, {300, 600, 20}, {600, 700, 0}, {700, 1000, 15}}, tol: 0.06},
		{name: "bursty matches the mean rate", p: Production{Schedule: []Step{{0, 10}}, Pattern: Bursty, Seed: 3},
			horizon: 1200 * s, windows: [][3]float64{{0, 1200, 10}}, tol: 0.04, burstsOK: true},
		{name: "bursty sends three times the mean in the on-time", p: Production{Schedule: []Step{{0, 5}, {600 * s, 15}}, Pattern: Bursty, Seed: 4},
			horizon: 1200 * s, windows: [][3]float64{{0, 600, 5}, {600, 1200, 15}}, tol: 0.06, burstsOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := arrivals(t, tt.p, tt.horizon)
			for _, w := range tt.windows {
				from, to := time.Duration(w[0]*float64(s)), time.Duration(w[1]*float64(s))
				want := w[2] * (w[1] - w[0])
				got := float64(countIn(at, from, to))
				if math.Abs(got-want) > tt.tol*want+0.5 {
					t.Errorf("%v to %v: %v calls, want %v within %.0f%%", from, to, got, want, 100*tt.tol)
				}
			}
			if tt.burstsOK {
				for _, a := range at {
					if a%BurstPeriod >= BurstOn {
						t.Fatalf("a call at %v: %v into a %v period, after the %v on-time", a, a%BurstPeriod, BurstPeriod, BurstOn)
					}
				}
			}
			if cv := gapsCV(at); tt.checkCV && math.Abs(cv-tt.wantCV) > 0.05 {
				t.Errorf("gaps' coefficient of variation %.3f, want %.2f", cv, tt.wantCV)
			}
		})
	}
}

// gapsCV is the coefficient of variation of the gaps between calls.
func gapsCV(at []time.Duration) float64 {
	var sum, sq float64
	n := 0
	for i := 1; i < len(at); i++ {
		g := (at[i] - at[i-1]).Seconds()
		sum += g
		sq += g * g
		n++
	}
	if n < 2 {
		return 0
	}
	mean := sum / float64(n)
	return math.Sqrt(math.Max(sq/float64(n)-mean*mean, 0)) / mean
}

func TestProduction_SeedIsReproducible(t *testing.T) {
	p := Production{Schedule: []Step{{0, 10}}, Pattern: Poisson, Seed: 7}
	a, b := arrivals(t, p, 30*time.Second), arrivals(t, p, 30*time.Second)
	if !slices.Equal(a, b) {
		t.Errorf("the same seed gave different calls: %d and %d", len(a), len(b))
	}
	p.Seed = 8
	if c := arrivals(t, p, 30*time.Second); slices.Equal(a, c) {
		t.Error("another seed gave the same calls")
	}
}

// The live benchmark compares the fake's production with the simulator's:
// both must mean the same thing by bursty.
func TestProduction_BurstsAreTheSimulators(t *testing.T) {
	if BurstFactor != sim.BurstFactor || BurstOn != sim.BurstOn || BurstPeriod != sim.BurstPeriod {
		t.Errorf("bursts %vx for %v of %v, the simulator's %vx for %v of %v",
			BurstFactor, BurstOn, BurstPeriod, sim.BurstFactor, sim.BurstOn, sim.BurstPeriod)
	}
	for _, p := range []Pattern{Even, Poisson, Bursty} {
		if got, err := ParsePattern(p.String()); err != nil || got != p {
			t.Errorf("ParsePattern(%q) = %v, %v", p, got, err)
		}
		if p.String() != sim.Pattern(p).String() {
			t.Errorf("pattern %d is %q here, %q in the simulator", p, p, sim.Pattern(p))
		}
	}
	if _, err := ParsePattern("random"); err == nil {
		t.Error("ParsePattern(random): no error")
	}
}
