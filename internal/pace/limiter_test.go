package pace

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// NewAuto returns a Limiter that searches for the rate the shared quota
// leaves free, never above max, as the CLI's --rate auto does with its own
// configuration (cli's limiter).
func NewAuto(max float64, burst int) *Limiter {
	return NewLimiter(New(AutoConfig(max)), burst)
}

// fakeClock is a settable clock for the controller side of a Limiter.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestLimiter(l *Limiter) (*Limiter, *fakeClock) {
	clock := &fakeClock{now: time.Now()}
	l.Now = clock.Now
	l.Rand = func() float64 { return 0 } // calls leave as their token comes
	return l, clock
}

func TestLimiter_Spread(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		spread  float64
		rand    float64
		atLeast time.Duration
	}{
		{name: "a random part of one gap", rate: 10, spread: 1, rand: 0.5, atLeast: 50 * time.Millisecond},
		{name: "never more than a second", rate: 0.01, spread: 1, rand: 0.999, atLeast: 999 * time.Millisecond},
		{name: "off", rate: 10, spread: 0, rand: 0.999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewFixed(tt.rate, 1)
			l.Spread, l.Rand = tt.spread, func() float64 { return tt.rand }
			start := time.Now()
			if err := l.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			// The first token is the burst's: any wait is the spread.
			got := time.Since(start)
			if got < tt.atLeast || got > tt.atLeast+2*time.Second {
				t.Errorf("first Wait took %v, want at least %v (and not minutes)", got, tt.atLeast)
			}
		})
	}
}

func TestLimiter_FixedFollowsController(t *testing.T) {
	l, clock := newTestLimiter(NewFixed(10, 1))
	if got := l.Rate(); got != 10 {
		t.Fatalf("Rate() = %v, want 10", got)
	}
	l.Throttled()
	if got := l.Rate(); !near(got, 7) {
		t.Errorf("after a throttle Rate() = %v, want 7", got)
	}
	if got := float64(l.lim.Limit()); !near(got, 7) {
		t.Errorf("token bucket limit = %v, want 7", got)
	}
	clock.Advance(6 * time.Second)
	l.Succeeded(30 * time.Millisecond)
	if got := float64(l.lim.Limit()); got != 10 {
		t.Errorf("token bucket limit after recovery = %v, want 10", got)
	}
	if l.lim.Burst() != 1 {
		t.Errorf("burst = %d, want 1", l.lim.Burst())
	}
}

func TestLimiter_AutoStartsAtHalfMax(t *testing.T) {
	l, clock := newTestLimiter(NewAuto(25, 3))
	if got := l.Rate(); !near(got, 12.5) {
		t.Errorf("Rate() = %v, want 12.5", got)
	}
	clock.Advance(10 * time.Minute)
	if got := l.Rate(); !near(got, 22.5) {
		t.Errorf("Rate() after quiet minutes = %v, want 22.5", got)
	}
	if got := float64(l.lim.Limit()); !near(got, 22.5) || l.lim.Burst() != 3 {
		t.Errorf("token bucket = %v/s burst %d, want 22.5/s burst 3", got, l.lim.Burst())
	}
	if l.State().Cuts != 0 {
		t.Error("cut without throttles")
	}
}

func TestLimiter_Latency(t *testing.T) {
	l, _ := newTestLimiter(NewFixed(10, 1))
	if l.Latency() != 0 {
		t.Errorf("latency before any call = %v", l.Latency())
	}
	l.Succeeded(100 * time.Millisecond)
	l.Succeeded(200 * time.Millisecond)
	if got := l.Latency(); got != 110*time.Millisecond {
		t.Errorf("latency = %v, want 110ms", got)
	}
}

func TestLimiter_WaitHonoursContext(t *testing.T) {
	tests := []struct {
		name string
		// waiting returns a Limiter and a channel that closes once a Wait
		// on it is blocked where the case says.
		waiting func(t *testing.T, ctx context.Context) (*Limiter, <-chan struct{})
	}{
		{name: "waiting for a token", waiting: func(t *testing.T, ctx context.Context) (*Limiter, <-chan struct{}) {
			l, _ := newTestLimiter(NewFixed(0.001, 1))
			if err := l.Wait(ctx); err != nil {
				t.Fatalf("first Wait takes the burst token: %v", err)
			}
			now := make(chan struct{})
			close(now) // the next Wait blocks on the token bucket at once
			return l, now
		}},
		{name: "in the spread after its token", waiting: func(t *testing.T, ctx context.Context) (*Limiter, <-chan struct{}) {
			l := NewFixed(0.01, 1)
			spreading := make(chan struct{})
			l.Rand = func() float64 { close(spreading); return 0.999 } // about a second
			return l, spreading
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			l, blocked := tt.waiting(t, ctx)
			done := make(chan error, 1)
			go func() { done <- l.Wait(ctx) }()
			<-blocked
			cancel()
			select {
			case err := <-done:
				if err == nil {
					t.Error("Wait returned nil after cancel")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Wait did not return after cancel")
			}
		})
	}
}

func TestLimiter_Concurrent(t *testing.T) {
	l, clock := newTestLimiter(NewAuto(25, 1))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch {
				case (i+w)%50 == 0:
					l.Throttled()
				default:
					l.Succeeded(time.Duration(10+i%5) * time.Millisecond)
				}
				if i%20 == 0 {
					clock.Advance(10 * time.Millisecond)
				}
				_ = l.Rate()
			}
		}()
	}
	wg.Wait()
	if r := l.Rate(); r < 1 || r > 22.5 {
		t.Errorf("rate %v out of bounds", r)
	}
	if l.lim.Limit() != rate.Limit(l.State().Rate) {
		t.Errorf("bucket %v and controller %v disagree", l.lim.Limit(), l.State().Rate)
	}
}
