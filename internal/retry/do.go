package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Loop configures Do. Only Policy and Kind matter for correctness; the
// function fields default to the real thing when nil.
type Loop struct {
	Policy Policy
	Kind   Kind
	// Wait takes one token from the shared limiter before every attempt,
	// retries included: the service counts attempts, not rows.
	Wait func(ctx context.Context) error
	// Timeout bounds each attempt (0: none). An expired attempt is a
	// transient failure that may have been executed.
	Timeout time.Duration
	// OnThrottle is called after each throttled attempt, so that the shared
	// limiter slows every worker, not just this one.
	OnThrottle func()
	// OnSuccess is called after an attempt that the service answered
	// without a fault: a success, or UserNotFoundException (the quota was
	// spent and not exceeded). latency is that attempt's duration.
	OnSuccess func(latency time.Duration)
	// OnFailure is called after every other attempt: an error that is not
	// a throttle, a timeout, a reset, a cancellation. With OnThrottle and
	// OnSuccess it ends every attempt that Wait let start, so a caller can
	// count the calls in flight.
	OnFailure func()
	// BeforeFirst, when set, runs once, after the first attempt's token
	// and before its call: what must be durable before a call can reach
	// the service (the intent journal). Its error ends the loop before
	// any call (Result.Unsent).
	BeforeFirst func() error
	// Sleep waits d or until ctx is done (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a uniform number in [0,1) for the jitter.
	Rand func() float64
	// Now is the clock used to measure latency.
	Now func() time.Time
}

// Result is what Do reports about one logical call.
type Result struct {
	// Attempts counts calls made; Throttles those that were throttled.
	Attempts, Throttles int
	// Class and Code are from the last attempt (OK and "" on success).
	Class Class
	Code  string
	// Err is nil on success, the context's error when ctx ended the loop,
	// else the last attempt's error wrapped in *Error.
	Err error
	// MaybeExecuted is true when any failed attempt may have been carried
	// out by the service (see Decision.MaybeExecuted). A caller uses it to
	// read a later "already done" answer as its own earlier success.
	MaybeExecuted bool
	// RequestID is the service's id for the last attempt, when it answered.
	RequestID string
	// Unsent is Loop.BeforeFirst's error: no call was made.
	Unsent error
}

// Do calls call until it succeeds, fails for good, runs out of attempts, or
// ctx ends. Each attempt first takes a token with l.Wait and runs under its
// own timeout. After MaxAttempts transient failures the result carries the
// last transient class (Retry or Throttle). When ctx ends (while waiting,
// sleeping or calling) the result has class Retry, code Canceled and Err set
// to ctx's error: the row was not settled and a later run may retry it.
func Do(ctx context.Context, l Loop, call func(ctx context.Context) error) Result {
	l = l.withDefaults()
	var res Result
	for attempt := 1; ; attempt++ {
		if err := l.Wait(ctx); err != nil {
			return res.canceled(ctx, fmt.Errorf("wait for rate limiter: %w", err))
		}
		if attempt == 1 && l.BeforeFirst != nil {
			if err := l.BeforeFirst(); err != nil {
				l.OnFailure() // it ends what Wait let start
				res.Unsent, res.Class, res.Err = err, Fatal, err
				return res
			}
		}
		latency, err := l.attempt(ctx, call)
		res.Attempts++
		if err == nil {
			res.Class, res.Code, res.Err, res.RequestID = OK, "", nil, ""
			l.OnSuccess(latency)
			return res
		}
		d := Classify(err, l.Kind)
		res.MaybeExecuted = res.MaybeExecuted || d.MaybeExecuted
		res.RequestID = RequestID(err)
		if ctx.Err() != nil {
			l.OnFailure()
			return res.canceled(ctx, err)
		}
		res.Class, res.Code, res.Err = d.Class, d.Code, wrapOnce(d, err)
		switch d.Class {
		case Throttle:
			res.Throttles++
			l.OnThrottle()
		case NotFound:
			l.OnSuccess(latency)
			return res
		case Retry:
			l.OnFailure()
		default:
			l.OnFailure()
			return res
		}
		if attempt >= l.Policy.MaxAttempts {
			return res
		}
		if err := l.Sleep(ctx, l.Policy.Delay(attempt, l.Rand())); err != nil {
			return res.canceled(ctx, err)
		}
	}
}

func (l Loop) attempt(ctx context.Context, call func(ctx context.Context) error) (time.Duration, error) {
	actx := ctx
	if l.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, l.Timeout)
		defer cancel()
	}
	start := l.Now()
	err := call(actx)
	return l.Now().Sub(start), err
}

// canceled ends the loop because ctx ended; err is what noticed it.
func (r Result) canceled(ctx context.Context, err error) Result {
	r.Class, r.Code = Retry, CodeCanceled
	if ctx.Err() != nil {
		r.Err = ctx.Err()
	} else {
		r.Err = err
	}
	return r
}

func wrapOnce(d Decision, err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	return Wrap(d, err)
}

func (l Loop) withDefaults() Loop {
	if l.Policy.MaxAttempts < 1 {
		l.Policy.MaxAttempts = 1
	}
	if l.Wait == nil {
		l.Wait = func(context.Context) error { return nil }
	}
	if l.OnThrottle == nil {
		l.OnThrottle = func() {}
	}
	if l.OnSuccess == nil {
		l.OnSuccess = func(time.Duration) {}
	}
	if l.OnFailure == nil {
		l.OnFailure = func() {}
	}
	if l.Sleep == nil {
		l.Sleep = Sleep
	}
	if l.Rand == nil {
		l.Rand = rand.Float64
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	return l
}

// Sleep waits d, or returns ctx's error as soon as ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
