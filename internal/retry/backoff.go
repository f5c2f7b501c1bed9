package retry

import (
	"math"
	"time"
)

// Policy is an exponential backoff with full jitter and a cap.
type Policy struct {
	// Base is the upper bound of the first delay.
	Base time.Duration
	// Cap bounds every delay.
	Cap time.Duration
	// MaxAttempts counts every call, the first included.
	MaxAttempts int
}

// DefaultPolicy returns Base 100ms, Cap 20s, MaxAttempts 8.
//
// Why these numbers: the shared limiter already spaces every attempt, and a
// throttle slows that limiter for all workers, so the backoff only has to
// de-synchronise retries and ride out short service trouble. With 8 attempts
// the upper bounds of the 7 waits add up to 12.7s (6.4s expected), enough
// for a brief InternalErrorException or connection-reset episode, while a
// row facing a real outage fails within about a minute even when each
// attempt runs into the 10s call timeout. The 20s cap only matters when
// MaxAttempts is raised: without it the 12th wait could reach 3.4 minutes.
func DefaultPolicy() Policy {
	return Policy{Base: 100 * time.Millisecond, Cap: 20 * time.Second, MaxAttempts: 8}
}

// Delay returns the wait after failed attempt number attempt (1 for the
// first call) given a uniform random u in [0,1): u * min(Cap, Base*2^(attempt-1)).
// Full jitter spreads retries of workers that failed together over the
// whole interval. Out-of-range inputs are clamped, never panic.
func (p Policy) Delay(attempt int, u float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if u < 0 || u != u { // u != u: NaN
		u = 0
	}
	if u >= 1 {
		u = 0.999999
	}
	if p.Base <= 0 {
		return 0
	}
	ceiling := p.Cap
	if ceiling <= 0 {
		ceiling = math.MaxInt64
	}
	limit := ceiling
	// Compare before shifting so that a large attempt cannot overflow.
	if shift := attempt - 1; shift < 63 && p.Base <= ceiling>>shift {
		limit = p.Base << shift
	}
	if limit <= 0 {
		return 0
	}
	return time.Duration(u * float64(limit))
}
