package pace

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

var (
	ok  = Event{Kind: Success, Latency: 20 * time.Millisecond}
	thr = Event{Kind: Throttle}
	tk  = Event{Kind: Tick}
)

func TestFixed_CutAndRecover(t *testing.T) {
	c := New(FixedConfig(10))
	s := c.Start(t0)
	if s.Rate != 10 {
		t.Fatalf("start rate = %v, want 10", s.Rate)
	}
	steps := []struct {
		name string
		at   time.Duration
		ev   Event
		want float64
	}{
		{name: "success holds", at: 100 * time.Millisecond, ev: ok, want: 10},
		{name: "throttle cuts to 70%", at: 200 * time.Millisecond, ev: thr, want: 7},
		{name: "throttle in cooldown is ignored", at: 700 * time.Millisecond, ev: thr, want: 7 + 3*0.5/5},
		{name: "halfway back after 2.5s", at: 2700 * time.Millisecond, ev: tk, want: 8.5},
		{name: "back to the asked rate after 5s", at: 5200 * time.Millisecond, ev: ok, want: 10},
		{name: "and holds there", at: time.Minute, ev: tk, want: 10},
	}
	for _, st := range steps {
		s = c.Next(s, st.ev, at(st.at))
		if !near(s.Rate, st.want) {
			t.Errorf("%s: rate = %v, want %v", st.name, s.Rate, st.want)
		}
	}
	if s.Cuts != 1 {
		t.Errorf("cuts = %d, want 1", s.Cuts)
	}
}

func TestFixed_RepeatedThrottlesCutDeeper(t *testing.T) {
	c := New(FixedConfig(10))
	s := c.Start(t0)
	s = c.Next(s, thr, at(0))
	s = c.Next(s, thr, at(1100*time.Millisecond)) // after the 1s cooldown
	// 7, then 1.1s into the ramp back (7 + 3*1.1/5 = 7.66), cut to 70%.
	if want := 0.7 * (7 + 3*1.1/5); !near(s.Rate, want) {
		t.Errorf("rate = %v, want %v", s.Rate, want)
	}
	// Throttled every 1.1s, the cuts outweigh the ramp back: the rate
	// settles where they balance, r = 0.7 (r + (10 - r) 1.1/5).
	for i := range 50 {
		s = c.Next(s, thr, at(time.Duration(2+i)*1100*time.Millisecond))
	}
	if want := 0.7 * 2.2 / (1 - 0.7*0.78); math.Abs(s.Rate-want) > 0.01 {
		t.Errorf("under steady throttling rate = %v, want about %v", s.Rate, want)
	}
}

func TestController_WindowedSignal(t *testing.T) {
	tests := []struct {
		name      string
		successes int
		throttles int
		spread    time.Duration // throttles spaced this far apart
		wantCut   bool
	}{
		{name: "one throttle among few calls is a signal", successes: 10, throttles: 1, wantCut: true},
		{name: "one throttle among many calls is noise", successes: 100, throttles: 1, wantCut: false},
		{name: "two among a hundred are a signal", successes: 98, throttles: 2, wantCut: true},
		{name: "throttles that left the window do not add up", successes: 100, throttles: 3, spread: 3 * time.Second, wantCut: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(AutoConfig(25))
			s := c.Start(t0)
			now := at(10 * time.Second)
			for i := range tt.successes {
				s = c.Next(s, ok, now.Add(time.Duration(i)*time.Millisecond))
			}
			now = now.Add(time.Duration(tt.successes) * time.Millisecond)
			for i := range tt.throttles {
				if i > 0 && tt.spread > 0 {
					// Later throttles come after as many successes again.
					now = now.Add(tt.spread)
					for j := range tt.successes {
						s = c.Next(s, ok, now.Add(time.Duration(j)*time.Millisecond))
					}
					now = now.Add(time.Duration(tt.successes) * time.Millisecond)
				}
				s = c.Next(s, thr, now)
			}
			if got := s.Cuts > 0; got != tt.wantCut {
				t.Errorf("cut = %v, want %v", got, tt.wantCut)
			}
		})
	}
}

func TestAuto_StartAndBounds(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	if s.Rate != 12.5 {
		t.Errorf("start = %v, want half of the maximum", s.Rate)
	}
	// Without throttles it climbs, but never past the ceiling (90%).
	prev := s.Rate
	for sec := 1; sec <= 600; sec++ {
		s = c.Next(s, ok, at(time.Duration(sec)*time.Second))
		if s.Rate < prev-1e-9 {
			t.Fatalf("rate fell without a throttle at %ds: %v < %v", sec, s.Rate, prev)
		}
		prev = s.Rate
	}
	if !near(s.Rate, 22.5) {
		t.Errorf("rate after 10 quiet minutes = %v, want the ceiling 22.5", s.Rate)
	}
	// Under constant throttling it never goes below the floor.
	for i := range 100 {
		s = c.Next(s, thr, at(601*time.Second+time.Duration(i)*time.Second))
	}
	if s.Rate != 1 {
		t.Errorf("rate under constant throttling = %v, want the floor 1", s.Rate)
	}
}

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
	// The hold is 3/4 of a probe period, which Damp stretches: the
	// spike's throttles, at the rate it cut to, stand for more of the
	// time than of the calls.
	hold := time.Duration(float64(cfg.Probe)/s.damp()) * 3 / 4
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

func TestAuto_CutBelowPlateauLowersCeiling(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	s = c.Next(s, thr, at(time.Second)) // still climbing: the share is smaller than thought
	rate := c.Next(c.Start(t0), tk, at(time.Second)).Rate
	if want := rate * (1 + 0.6) / 2; !near(s.WMax, want) {
		t.Errorf("WMax = %v, want %v (fast convergence)", s.WMax, want)
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

func TestController_Pure(t *testing.T) {
	c := New(AutoConfig(25))
	s := c.Start(t0)
	s = c.Next(s, ok, at(time.Second))
	a := c.Next(s, thr, at(2*time.Second))
	b := c.Next(s, thr, at(2*time.Second))
	if a != b {
		t.Errorf("same input, different states:\n%+v\n%+v", a, b)
	}
	if s.Cuts != 0 {
		t.Error("Next modified its argument")
	}
	// Time going backwards is taken as no time passing.
	back := c.Next(a, tk, at(0))
	if back.Rate != a.Rate {
		t.Errorf("rate after a clock step back = %v, want %v", back.Rate, a.Rate)
	}
}

func TestNew_Defaults(t *testing.T) {
	c := New(Config{Auto: true, Rate: 50})
	got := c.Config()
	want := AutoConfig(50)
	if got != want {
		t.Errorf("New filled\n%+v\nwant\n%+v", got, want)
	}
	if f := New(Config{Rate: 0.5}).Config(); f.Min != 0.5 || f.Beta != 0.7 {
		t.Errorf("fixed defaults for a slow rate: %+v", f)
	}
}

// fastProbe drives an auto controller the way a run does: throttled at
// the plateau until its ceiling is low, then every call it lets through
// answered, until the probe has climbed to three times that ceiling (or
// near the top).
// It returns the state just before the next throttle and just after it.
func fastProbe(t *testing.T) (Controller, State, State) {
	c := New(bucket25())
	s := c.Start(t0)
	now := time.Second
	for s.WMax > 9 { // throttled at the plateau, a few seconds apart
		s = c.Next(s, thr, at(now))
		now += 6 * time.Second
	}
	limit := math.Min(3*s.WMax, 0.99*c.cfg.Rate*c.cfg.Ceiling)
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

// The onset after a cut starts from an empty bucket, which refills only
// while the rate is under the share: a throttle soon after a cut, before
// the bucket could fill, needs less excess than a bucket's worth, and the
// share is higher than the excess alone says. The estimate is the highest
// share at which a bucket of Burst, empty at the cut and refilled at that
// share, is empty again at the throttle.
func TestAuto_OnsetFromAnEmptyBucket(t *testing.T) {
	c, _, s := fastProbe(t)
	if s.level0 != 0 {
		t.Fatalf("level at the cut %v, want 0 (empty)", s.level0)
	}
	now := s.epoch
	for now.Before(s.epoch.Add(3 * time.Second)) {
		now = now.Add(time.Duration(float64(time.Second) / s.Rate))
		s = c.Next(s, ok, now)
	}
	left := func(share float64) float64 {
		const n = 4096
		span := now.Sub(s.epoch)
		dt := span.Seconds() / n
		level := 0.0
		for i := range n {
			r := c.curve(s, s.epoch.Add(time.Duration((float64(i)+0.5)*float64(span)/n)))
			level = math.Min(c.cfg.Burst, math.Max(0, level+(share-r)*dt))
		}
		return level
	}
	a := c.onset(s, now)
	t.Logf("cut to %.2f, rate %.2f 3 s later: onset %.2f, bucket left %.3f; at onset + 0.3, %.3f",
		s.from, s.Rate, a, left(a), left(a+0.3))
	if left(a) > 0.05 {
		t.Errorf("at the onset %.2f the bucket holds %.3f at the throttle, want empty", a, left(a))
	}
	if left(a+0.3) < 0.05 {
		t.Errorf("at %.2f, above the onset, the bucket is still empty at the throttle: the onset errs low", a+0.3)
	}
}
