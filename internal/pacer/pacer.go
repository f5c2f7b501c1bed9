// Package pacer is the one paced client every Cognito call outside the
// pipeline's own loop goes through, as rclone's lib/pacer serves every
// backend call: per quota category, a limiter and the retry policy, and one
// Call(ctx, category, fn) that waits for a token before every attempt,
// retries by error code (internal/retry) and tells the limiter what the
// service answered, so a throttled call slows every caller of its quota.
//
// It holds no policy of its own: the backoff and the classification are
// retry's, the rates pace's. It may import retry; internal/run and
// internal/batch use it.
package pacer

import (
	"context"
	"time"

	"github.com/cogsweep/cogsweep/internal/retry"
)

// Category is a Cognito quota category: calls of one category share one
// limiter, whoever makes them.
type Category int

const (
	// Control is the pre-flight's calls (STS, DescribeUserPool, the
	// access check's read): a handful per run, bounded by the pre-flight's
	// deadline, unpaced.
	Control Category = iota
	// UserRead is AdminGetUser and AdminListGroupsForUser.
	UserRead
	// UserList is ListUsers and ListUsersInGroup.
	UserList
)

// Limiter is what the pacer needs of a rate limiter (*pace.Limiter).
type Limiter interface {
	Wait(ctx context.Context) error
	Throttled()
	Succeeded(latency time.Duration)
	Rate() float64
}

// Options are a Pacer's policy.
type Options struct {
	Policy retry.Policy
	// Timeout bounds each attempt (0: none).
	Timeout time.Duration
	// Limiters paces each category; a category without one is unpaced.
	Limiters map[Category]Limiter
}

// Pacer makes calls under Options. It is safe for concurrent use.
type Pacer struct{ o Options }

// New returns a Pacer.
func New(o Options) *Pacer { return &Pacer{o: o} }

// Limiter is category c's limiter (nil when unpaced), for the pipeline's
// workers, which run their own retry loop over the same bucket.
func (p *Pacer) Limiter(c Category) Limiter { return p.o.Limiters[c] }

// Policy is the retry policy of every call.
func (p *Pacer) Policy() retry.Policy { return p.o.Policy }

// Attempts returns a Pacer that makes at most n attempts per call (the
// pre-flight's STS check against an emulator that may not serve it).
func (p *Pacer) Attempts(n int) *Pacer {
	o := p.o
	o.Policy.MaxAttempts = min(o.Policy.MaxAttempts, n)
	return &Pacer{o: o}
}

// Call calls fn until it succeeds, fails for good or ctx ends, taking a
// token of c's limiter before every attempt, retries included (the service
// counts attempts). A throttled attempt slows c's limiter; an answered one
// feeds it the latency. Calls authenticate with IAM credentials.
func (p *Pacer) Call(ctx context.Context, c Category, fn func(ctx context.Context) error) retry.Result {
	loop := retry.Loop{Policy: p.o.Policy, Kind: retry.IAM, Timeout: p.o.Timeout}
	if lim := p.o.Limiters[c]; lim != nil {
		loop.Wait, loop.OnThrottle, loop.OnSuccess = lim.Wait, lim.Throttled, lim.Succeeded
	}
	return retry.Do(ctx, loop, fn)
}
