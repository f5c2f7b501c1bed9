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
