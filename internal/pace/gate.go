package pace

import (
	"container/list"
	"context"
	"sync"
)

// Gate bounds the number of calls in flight to a limit that can change
// while callers wait. Waiters are served in arrival order. It is safe for
// concurrent use.
type Gate struct {
	mu      sync.Mutex
	limit   int
	held    int
	waiters list.List // of chan struct{}, closed when granted
}

// NewGate returns a Gate admitting n at a time (n < 1 is taken as 1).
func NewGate(n int) *Gate {
	return &Gate{limit: max(n, 1)}
}

// Acquire waits for a slot or for ctx to end. A nil error means the caller
// holds a slot and must Release it.
func (g *Gate) Acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.held < g.limit && g.waiters.Len() == 0 {
		g.held++
		g.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	elem := g.waiters.PushBack(ready)
	g.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-ready:
			// Granted while giving up: hand the slot on.
			g.held--
			g.grantLocked()
		default:
			g.waiters.Remove(elem)
		}
		return ctx.Err()
	}
}

// Release returns a slot taken by Acquire.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held == 0 {
		panic("pace: Gate.Release without Acquire")
	}
	g.held--
	g.grantLocked()
}

// SetLimit changes how many may be in flight (n < 1 is taken as 1). A
// lower limit takes effect as calls finish; none is interrupted.
func (g *Gate) SetLimit(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit = max(n, 1)
	g.grantLocked()
}

// Limit returns the current limit.
func (g *Gate) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// InFlight returns how many slots are held.
func (g *Gate) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

func (g *Gate) grantLocked() {
	for g.held < g.limit && g.waiters.Len() > 0 {
		ready := g.waiters.Remove(g.waiters.Front()).(chan struct{})
		g.held++
		close(ready)
	}
}
