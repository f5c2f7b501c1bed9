package pace

import (
	"math"
	"testing"
	"time"
)

// --rate auto's probe (probe.go): the climb, the plateau and the ceiling a cut
// sets, and the target that damps the plateau.

func TestAuto_CutWhileProbingEstimatesOnset(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	// Probe for 8s without throttles, then get throttled.
	for ms := 0; ms <= 8000; ms += 40 {
		s = c.Next(s, ok, at(time.Duration(ms)*time.Millisecond))
	}
	before := s.Rate
	s = c.Next(s, thr, at(8040*time.Millisecond))
	if s.Cuts != 1 {
		t.Fatalf("no cut")
	}
	if !near(s.Rate, 0.6*before) {
		t.Errorf("cut to %v, want 60%% of %v", s.Rate, before)
	}
	// The bucket hid the overshoot: where throttling began is below the
	// rate at the signal, but not below the cut.
	if s.WMax >= before || s.WMax < s.Rate {
		t.Errorf("WMax = %v, want in [%v, %v)", s.WMax, s.Rate, before)
	}
	// Recover seconds later it levels off just below that estimate.
	s = c.Next(s, tk, at(8040*time.Millisecond+5*time.Second))
	if math.Abs(s.Rate-0.95*s.WMax) > 0.01*s.WMax {
		t.Errorf("plateau = %v, want about 95%% of %v", s.Rate, s.WMax)
	}
	// With no level remembered from before a shrink (a probe's cut
	// forgets it), the curve is flat around the plateau, then the probe
	// speeds up: 10% above it Probe later, and more than that in the next
	// Probe.
	s.high = 0
	probe := c.Config().Probe
	plateauAt := 8040 * time.Millisecond
	for c.Next(s, tk, at(plateauAt)).Rate < 0.95*s.WMax*0.9999 {
		plateauAt += 10 * time.Millisecond
	}
	a := c.Next(s, tk, at(plateauAt+probe/4)).Rate
	b := c.Next(s, tk, at(plateauAt+probe)).Rate
	d := c.Next(s, tk, at(plateauAt+2*probe)).Rate
	p := 0.95 * s.WMax
	if a-p > 0.01*p || b < 1.05*p || b > 1.11*p || d-b < b-p {
		t.Errorf("plateau %v, +Probe/4 %v, +Probe %v, +2 Probe %v: want flat, then about 10%% up, then faster", p, a, b, d)
	}
}

func TestAuto_CutBelowPlateauLowersCeiling(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	s = c.Next(s, thr, at(time.Second)) // still climbing: the share is smaller than thought
	rate := c.Next(c.Start(t0), tk, at(time.Second)).Rate
	if want := rate * (1 + 0.6) / 2; !near(s.WMax, want) {
		t.Errorf("WMax = %v, want %v (fast convergence)", s.WMax, want)
	}
}

// fastProbe drives an auto controller the way a run does: throttled at
// the plateau until its ceiling is low, then every call it lets through
// answered, until the probe has climbed to more than twice that ceiling.
// It returns the state just before the next throttle and just after it.
func fastProbe(t *testing.T) (Controller, State, State) {
	c := New(bucket25())
	s := c.Start(t0)
	now := time.Second
	for s.WMax > 9 { // throttled at the plateau, a few seconds apart
		s = c.Next(s, thr, at(now))
		now += 6 * time.Second
	}
	limit := 2.2 * s.WMax
	for s.Rate < limit {
		now += time.Duration(float64(time.Second) / s.Rate)
		s = c.Next(s, ok, at(now))
		if now > 2*time.Minute {
			t.Fatalf("the probe never reached %.1f/s", limit)
		}
	}
	return c, s, c.Next(s, thr, at(now))
}

func TestAuto_CutAfterFastProbeRefills(t *testing.T) {
	c, before, after := fastProbe(t)
	cfg := c.Config()
	if after.Cuts != before.Cuts+1 {
		t.Fatal("no cut")
	}
	lb, ok := c.sustained(before, after.epoch)
	if !ok {
		t.Fatal("no sustained share over the probe")
	}
	onset := c.onset(before, after.epoch)
	t.Logf("rate %.2f, sustained %.2f, onset %.2f: WMax %.2f, cut to %.2f", before.Rate, lb, onset, after.WMax, after.Rate)
	// The bucket ran dry well before this throttle: Beta x rate is above
	// both what the calls sustained and where the probe crossed the
	// share. Flooring WMax there would keep the job above the share.
	if after.WMax >= cfg.Beta*before.Rate {
		t.Errorf("WMax = %.2f, want below Beta x rate = %.2f", after.WMax, cfg.Beta*before.Rate)
	}
	if want := math.Max(math.Min(cfg.Beta*before.Rate, lb), math.Min(before.Rate, onset)); !near(after.WMax, want) {
		t.Errorf("WMax = %.3f, want %.3f", after.WMax, want)
	}
	// The cut goes below WMax, so that the climb back refills the bucket.
	if want := cfg.Refill * after.WMax; !near(after.Rate, want) || after.Rate >= cfg.Beta*before.Rate {
		t.Errorf("cut to %.3f, want Refill x WMax = %.3f, below Beta x rate", after.Rate, want)
	}
}

// bucket25 is --rate auto at 25/s told the bucket is 25 calls deep, as the
// cases above (written for that depth) want.
func bucket25() Config {
	cfg := AutoConfig(25)
	cfg.Burst = 25
	return cfg
}

// TestAuto_TargetDampsThePlateau: a job throttled on 5% of its calls for a
// minute (production arriving in bursts that its own throttles understate)
// gets a lower plateau; two minutes without throttles lift it back.
func TestAuto_TargetDampsThePlateau(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	now := time.Duration(0)
	feed := func(d time.Duration, every int) {
		for end, i := now+d, 0; now < end; i++ {
			now += 100 * time.Millisecond // 10 answers a second
			ev := ok
			if every > 0 && i%every == every-1 {
				ev = thr
			}
			s = c.Next(s, ev, at(now))
		}
	}
	feed(time.Minute, 20)
	damped := s.Damp
	if damped > 0.5 {
		t.Fatalf("Damp = %.2f after a minute at 5%% throttled, want at most 0.5", damped)
	}
	if p := c.plateau(s); p > c.Config().Settle*s.WMax*damped*1.001 && p > s.from {
		t.Errorf("plateau %.2f is not damped (WMax %.2f, Damp %.2f)", p, s.WMax, damped)
	}
	feed(2*time.Minute, 0)
	t.Logf("Damp %.2f after a minute at 5%% throttled, %.2f after two quiet minutes", damped, s.Damp)
	if s.Damp < 0.8 {
		t.Errorf("Damp = %.2f after two quiet minutes (was %.2f), want back near 1", s.Damp, damped)
	}
	// Under Target, nothing is damped.
	s = c.Start(t0)
	now = 0
	feed(time.Minute, 200) // 0.5%
	if s.Damp != 1 {
		t.Errorf("Damp = %.2f at 0.5%% throttled, want 1", s.Damp)
	}
}
