package pace

import (
	"math"
	"testing"
	"time"
)

// --rate auto's estimates (estimate.go): the level sustained before a cut, the
// climb back to it, and the cooldown that follows latency.

// TestAuto_ShrinkClimbsBackToSustainedLevel: production spikes under a
// job that was answered at 18/s for 20 s; once the spike's cuts are over, the plateau is
// held a while, then the rate climbs back in Recover to where it levelled
// off before (Settle x the sustained 18/s), not along the probe's cubic
// from the low plateau, which took 15 s to find a share grown fourfold.
func TestAuto_ShrinkClimbsBackToSustainedLevel(t *testing.T) {
	c := New(AutoConfig(25))
	cfg := c.Config()
	s := c.Start(t0)
	now := time.Duration(0)
	for now < 20*time.Second { // answered at 18/s, the rate capped there by the share
		now += time.Second / 18
		s = c.Next(s, ok, at(now))
	}
	// The spike: throttled at the plateau, and again a second and two
	// later on the way back up (too soon for a sustained estimate).
	for i := range 3 {
		s = c.Next(s, thr, at(now+time.Duration(i)*time.Second))
	}
	if s.Cuts != 3 {
		t.Fatalf("cuts = %d, want 3", s.Cuts)
	}
	sustained := (18*20 - cfg.Burst) / 20 // the first Burst calls came out of the full bucket
	if math.Abs(s.high-sustained) > 0.1 {
		t.Errorf("level remembered = %.2f, want the sustained %.2f", s.high, sustained)
	}
	cut := now + 2*time.Second
	// The plateau the cut leads to, reached within Recover.
	plateau := c.plateau(s)
	flatAt := cut
	for c.Next(s, tk, at(flatAt)).Rate < plateau*0.9999 {
		flatAt += 10 * time.Millisecond
	}
	hold := cfg.Probe * 3 / 4
	held := c.Next(s, tk, at(flatAt+hold-100*time.Millisecond)).Rate
	back := c.Next(s, tk, at(flatAt+hold+cfg.Recover)).Rate
	t.Logf("plateau %.2f, before the hold ends %.2f, Recover after it %.2f", plateau, held, back)
	if held > plateau*1.01 {
		t.Errorf("rate %.2f before the hold ends, want the plateau %.2f", held, plateau)
	}
	// (The flat point is found to within the cubic's flatness: a few
	// percent early.)
	if want := cfg.Settle * sustained; back < 0.95*want || back > want*1.001 {
		t.Errorf("rate %.2f Recover after the hold, want back near %.2f (Settle x sustained)", back, want)
	}
	// A throttle on the way back is a probe's cut: the old level is
	// stale and forgotten.
	s = c.Next(s, thr, at(flatAt+hold+cfg.Recover/2))
	if s.Cuts != 4 || s.high != 0 {
		t.Errorf("after a throttle on the climb back: cuts %d, level remembered %.2f; want 4 and none", s.Cuts, s.high)
	}
}

func TestAuto_CooldownFollowsLatency(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	slow := Event{Kind: Success, Latency: time.Second}
	s = c.Next(s, slow, at(0))
	s = c.Next(s, thr, at(100*time.Millisecond))
	// Answers to calls sent before the cut keep coming for ~3 latencies.
	s = c.Next(s, thr, at(2*time.Second))
	if s.Cuts != 1 {
		t.Errorf("cuts = %d within three latencies, want 1", s.Cuts)
	}
	s = c.Next(s, thr, at(3200*time.Millisecond))
	if s.Cuts != 2 {
		t.Errorf("cuts = %d after three latencies, want 2", s.Cuts)
	}
}

func TestAuto_SustainedNeverRaisesTheFloor(t *testing.T) {
	// More answered calls than the curve allowed (the share shrank
	// since, or answers to calls of before the cut): what was sustained
	// must not lift WMax above what the onset and Beta x rate say.
	c := New(AutoConfig(25))
	s := c.Start(t0)
	s = c.Next(s, thr, at(time.Second))
	end := 21 * time.Second
	for d := time.Second + 40*time.Millisecond; d < end; d += 40 * time.Millisecond { // 25/s
		s = c.Next(s, ok, at(d))
	}
	before := c.Next(s, tk, at(end))
	after := c.Next(s, thr, at(end))
	if after.Cuts != before.Cuts+1 {
		t.Fatal("no cut")
	}
	if lb, _ := c.sustained(before, at(end)); lb <= c.Config().Beta*before.Rate {
		t.Fatalf("sustained %.2f: the case wants more than Beta x rate = %.2f", lb, c.Config().Beta*before.Rate)
	}
	plain := math.Max(c.Config().Beta*before.Rate, math.Min(before.Rate, c.onset(before, at(end))))
	if !near(after.WMax, plain) {
		t.Errorf("WMax = %.3f, want %.3f as without the sustained share", after.WMax, plain)
	}
}

func TestAuto_SustainedCountsTheFullBucketAtStart(t *testing.T) {
	c := New(bucket25())
	s := c.Start(t0)
	for ms := 100; ms <= 10000; ms += 100 { // 10/s for 10s: 100 calls
		s = c.Next(s, ok, at(time.Duration(ms)*time.Millisecond))
	}
	// The first 25 came out of the full bucket: 75 in 10s from the share.
	if lb, ok := c.sustained(s, at(10*time.Second)); !ok || !near(lb, 7.5) {
		t.Errorf("sustained = %v, %v; want 7.5/s", lb, ok)
	}
	if _, ok := c.sustained(s, at(time.Second)); ok {
		t.Error("a span of 1s gave an estimate: want none")
	}
}
