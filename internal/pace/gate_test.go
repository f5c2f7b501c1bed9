package pace

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// acquireAsync starts an Acquire and returns a channel that reports its
// result.
func acquireAsync(ctx context.Context, g *Gate) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- g.Acquire(ctx) }()
	return ch
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func waiters(g *Gate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters.Len()
}

func stillWaiting(ch <-chan error) bool {
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

func TestGate_Limit(t *testing.T) {
	ctx := context.Background()
	g := NewGate(2)
	for range 2 {
		if err := g.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	third := acquireAsync(ctx, g)
	waitFor(t, "third to queue", func() bool { return waiters(g) == 1 })
	if !stillWaiting(third) || g.InFlight() != 2 {
		t.Fatalf("third got in past the limit")
	}
	g.Release()
	if err := <-third; err != nil {
		t.Fatal(err)
	}
	if g.InFlight() != 2 {
		t.Errorf("in flight = %d, want 2", g.InFlight())
	}
}

func TestGate_SetLimitUpWakesWaiters(t *testing.T) {
	ctx := context.Background()
	g := NewGate(1)
	_ = g.Acquire(ctx)
	a, b := acquireAsync(ctx, g), acquireAsync(ctx, g)
	waitFor(t, "two waiters", func() bool { return waiters(g) == 2 })
	g.SetLimit(3)
	for _, ch := range []<-chan error{a, b} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if g.InFlight() != 3 || g.Limit() != 3 {
		t.Errorf("in flight %d limit %d, want 3 3", g.InFlight(), g.Limit())
	}
}

func TestGate_SetLimitDownDrains(t *testing.T) {
	ctx := context.Background()
	g := NewGate(3)
	for range 3 {
		_ = g.Acquire(ctx)
	}
	g.SetLimit(1)
	next := acquireAsync(ctx, g)
	waitFor(t, "a waiter", func() bool { return waiters(g) == 1 })
	g.Release()
	g.Release()
	if !stillWaiting(next) {
		t.Fatal("admitted while 1 in flight at limit 1")
	}
	g.Release()
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	if g.InFlight() != 1 {
		t.Errorf("in flight = %d, want 1", g.InFlight())
	}
	g.SetLimit(0)
	if g.Limit() != 1 {
		t.Errorf("limit 0 kept: %d", g.Limit())
	}
}

func TestGate_FIFO(t *testing.T) {
	ctx := context.Background()
	g := NewGate(1)
	_ = g.Acquire(ctx)
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Acquire(ctx); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.Release()
		}()
		waitFor(t, "waiter to queue", func() bool { return waiters(g) == i+1 })
	}
	g.Release()
	wg.Wait()
	if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Errorf("order = %v, want [0 1 2]", order)
	}
}

func TestGate_CancelWhileWaiting(t *testing.T) {
	g := NewGate(1)
	_ = g.Acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	ch := acquireAsync(ctx, g)
	waitFor(t, "a waiter", func() bool { return waiters(g) == 1 })
	cancel()
	if err := <-ch; err != context.Canceled {
		t.Fatalf("Acquire = %v, want context.Canceled", err)
	}
	if waiters(g) != 0 || g.InFlight() != 1 {
		t.Errorf("waiters %d in flight %d after cancel, want 0 1", waiters(g), g.InFlight())
	}
	g.Release()
	if g.InFlight() != 0 {
		t.Errorf("slot leaked: %d in flight", g.InFlight())
	}
}

// Many goroutines acquiring, releasing, canceling and resizing must never
// exceed the limit nor leak a slot.
func TestGate_Stress(t *testing.T) {
	g := NewGate(4)
	var mu sync.Mutex
	inside, peak := 0, 0
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				ctx, cancel := context.WithCancel(context.Background())
				if (i+w)%7 == 0 {
					cancel()
				}
				if err := g.Acquire(ctx); err != nil {
					cancel()
					continue
				}
				mu.Lock()
				inside++
				peak = max(peak, inside)
				mu.Unlock()
				mu.Lock()
				inside--
				mu.Unlock()
				g.Release()
				cancel()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 100 {
			g.SetLimit(2 + i%4)
		}
		g.SetLimit(4)
	}()
	wg.Wait()
	if peak > 5 {
		t.Errorf("peak in flight %d above every limit set", peak)
	}
	if g.InFlight() != 0 || waiters(g) != 0 {
		t.Errorf("leaked: %d in flight, %d waiting", g.InFlight(), waiters(g))
	}
}

func TestGate_ReleaseWithoutAcquirePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewGate(1).Release()
}
