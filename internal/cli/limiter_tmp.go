package cli

import (
	"context"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// tmpLimiter is a stand-in until internal/pace lands.
type tmpLimiter struct{ l *rate.Limiter }

func newTmpLimiter(r float64, burst int) *tmpLimiter {
	return &tmpLimiter{rate.NewLimiter(rate.Limit(r), burst)}
}
func (t *tmpLimiter) Wait(ctx context.Context) error { return t.l.Wait(ctx) }
func (t *tmpLimiter) Throttled()                     {}
func (t *tmpLimiter) Succeeded(time.Duration)        {}
func (t *tmpLimiter) Rate() float64                  { return float64(t.l.Limit()) }

func tmpConcurrency(r float64, lat time.Duration) int {
	return min(64, max(2, int(math.Ceil(r*lat.Seconds()*1.5))+1))
}
