package pace

import (
	"math"
	"testing"
	"time"
)

var outerT0 = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// minutes builds n published minutes from start: production's calls and
// throttles per minute, and the job's own.
func minutes(start time.Time, n int, prodCalls, prodThr, ownCalls, ownThr float64) []Minute {
	var out []Minute
	for i := range n {
		out = append(out, Minute{
			Start: start.Add(time.Duration(i) * time.Minute),
			Calls: prodCalls + ownCalls, Throttles: prodThr + ownThr, OwnCalls: ownCalls, OwnThrottles: ownThr,
		})
	}
	return out
}

func TestOuter_Next(t *testing.T) {
	now := outerT0.Add(5 * time.Minute)
	tests := []struct {
		name        string
		state       OuterState
		mins        []Minute
		rate, top   float64
		wantCeiling float64
		wantChange  string
		wantHarm    bool
		wantMinutes int
	}{
		{name: "production throttled: the ceiling is 80% of the job's rate",
			state: StartOuter(outerT0), mins: minutes(outerT0, 3, 600, 30, 300, 0), rate: 10, top: 22.5,
			wantCeiling: 8, wantChange: "cut", wantHarm: true, wantMinutes: 3},
		{name: "still throttled under a ceiling: 80% of the ceiling",
			state: OuterState{Ceiling: 6, Since: outerT0}, mins: minutes(outerT0, 2, 600, 30, 300, 0), rate: 10, top: 22.5,
			wantCeiling: 4.8, wantChange: "cut", wantHarm: true, wantMinutes: 2},
		{name: "the job's own throttles are not production's",
			state: StartOuter(outerT0), mins: minutes(outerT0, 3, 600, 0, 300, 40), rate: 10, top: 22.5,
			wantMinutes: 3},
		{name: "a few production throttles are noise",
			state: StartOuter(outerT0), mins: minutes(outerT0, 1, 100, 4, 300, 0), rate: 10, top: 22.5,
			wantMinutes: 1},
		{name: "under the tolerance: no harm",
			state: StartOuter(outerT0), mins: minutes(outerT0, 3, 1200, 10, 300, 0), rate: 10, top: 22.5,
			wantMinutes: 3},
		{name: "served again: the ceiling rises by a quarter",
			state: OuterState{Ceiling: 8, Since: outerT0}, mins: minutes(outerT0, 3, 600, 0, 300, 0), rate: 8, top: 22.5,
			wantCeiling: 10, wantChange: "raise", wantMinutes: 3},
		{name: "raised to the controller's top: lifted",
			state: OuterState{Ceiling: 20, Since: outerT0}, mins: minutes(outerT0, 1, 600, 0, 300, 0), rate: 20, top: 22.5,
			wantChange: "lift", wantMinutes: 1},
		{name: "minutes before Since were judged already",
			state: OuterState{Since: outerT0.Add(3 * time.Minute)}, mins: minutes(outerT0, 3, 600, 60, 300, 0), rate: 10, top: 22.5},
		{name: "never under Min",
			state: OuterState{Ceiling: 1.1, Since: outerT0}, mins: minutes(outerT0, 1, 600, 60, 60, 0), rate: 1.1, top: 22.5,
			wantCeiling: 1, wantChange: "cut", wantHarm: true, wantMinutes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, v := DefaultOuter().Next(tt.state, tt.mins, tt.rate, tt.top, now)
			if math.Abs(s.Ceiling-tt.wantCeiling) > 1e-9 || v.Change != tt.wantChange || v.Harm != tt.wantHarm || v.Minutes != tt.wantMinutes {
				t.Errorf("Next = %+v, %+v; want ceiling %v, change %q, harm %v, %d minutes judged",
					s, v, tt.wantCeiling, tt.wantChange, tt.wantHarm, tt.wantMinutes)
			}
			if v.Change != "" && !s.Since.Equal(now) {
				t.Errorf("Since %v after a change, want now (%v): the minutes so far ran at the old ceiling", s.Since, now)
			}
		})
	}
}

// TestOuter_JudgesEachMinuteOnce: the same minutes read again (CloudWatch
// answers the whole window each time) change nothing more, and only the
// minutes after a cut judge the new ceiling.
func TestOuter_JudgesEachMinuteOnce(t *testing.T) {
	cfg := DefaultOuter()
	harm := minutes(outerT0, 3, 600, 30, 300, 0)
	s, _ := cfg.Next(StartOuter(outerT0), harm, 10, 22.5, outerT0.Add(3*time.Minute))
	if s.Ceiling != 8 {
		t.Fatalf("ceiling %v after harm, want 8", s.Ceiling)
	}
	s, v := cfg.Next(s, harm, 8, 22.5, outerT0.Add(8*time.Minute))
	if s.Ceiling != 8 || v.Minutes != 0 {
		t.Fatalf("the same minutes again: ceiling %v, %d judged; want 8, none", s.Ceiling, v.Minutes)
	}
	clean := append(harm, minutes(outerT0.Add(3*time.Minute), 5, 600, 0, 300, 0)...)
	s, v = cfg.Next(s, clean, 8, 22.5, outerT0.Add(9*time.Minute))
	if s.Ceiling != 10 || v.Minutes != 5 || v.Change != "raise" {
		t.Errorf("clean minutes after the cut: ceiling %v, %+v; want 10 after 5 minutes judged", s.Ceiling, v)
	}
}

// TestLimiter_SetCeiling: the controller's rate stays under the ceiling,
// a throttle under it cuts from the capped rate, and lifting it lets the
// controller climb again.
func TestLimiter_SetCeiling(t *testing.T) {
	l, clock := newTestLimiter(NewAuto(25, 1))
	for range 60 { // a minute without throttles: auto climbs to its top
		clock.Advance(time.Second)
		l.Succeeded(50 * time.Millisecond)
	}
	if r := l.Rate(); r < 20 {
		t.Fatalf("rate %v after a clean minute, want near the top 22.5", r)
	}
	l.SetCeiling(6)
	if r := l.Rate(); r != 6 || l.Ceiling() != 6 {
		t.Fatalf("rate %v, ceiling %v after SetCeiling(6)", r, l.Ceiling())
	}
	for range 30 {
		clock.Advance(time.Second)
		l.Succeeded(50 * time.Millisecond)
		if r := l.Rate(); r > 6 {
			t.Fatalf("rate %v over the ceiling 6", r)
		}
	}
	for range 3 {
		l.Throttled()
	}
	if r := l.Rate(); r >= 6*0.7 {
		t.Errorf("rate %v after throttles under the ceiling, want a cut from 6", r)
	}
	l.SetCeiling(0)
	for range 60 {
		clock.Advance(time.Second)
		l.Succeeded(50 * time.Millisecond)
	}
	if r := l.Rate(); r <= 6 {
		t.Errorf("rate %v a minute after the ceiling was lifted, want above 6", r)
	}
}

// TestController_Prior: with the free share the account's metrics show as
// the prior, the first climb levels off under it instead of heading for
// the quota (production at 20/s of 25: the climb drained the bucket and
// failed production's calls in the first seconds).
func TestController_Prior(t *testing.T) {
	tests := []struct {
		name    string
		prior   float64
		atMost  float64 // rate 5 s after the start
		atLeast float64
	}{
		{name: "a prior of 5/s: levels off under it", prior: 0.2, atMost: 5, atLeast: 4.5},
		{name: "no prior: climbs toward the quota", atLeast: 10, atMost: 22.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := AutoConfig(25)
			cfg.Start, cfg.Prior = 0.18, tt.prior
			c := New(cfg)
			s := c.Start(outerT0)
			s = c.Next(s, Event{Kind: Tick}, outerT0.Add(5*time.Second))
			if s.Rate > tt.atMost || s.Rate < tt.atLeast {
				t.Errorf("rate %v after 5 s, want %v..%v", s.Rate, tt.atLeast, tt.atMost)
			}
		})
	}
}
