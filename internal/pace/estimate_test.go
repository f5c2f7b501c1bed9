package pace

import (
	"math"
	"testing"
	"time"
)

// TestAuto_ThrottledShareCountsTime: the throttled share that moves Damp
// weighs each answer by the gap its call stood for. A job that cuts its
// rate when throttled sends few calls while the bucket is empty; counted
// per call, 2 s empty out of 22 (both calls in it throttled, after 400
// served at 20/s) read as 0.7%, under Target, though production arriving
// at random meets an empty bucket 9% of the time (12% decayed).
func TestAuto_ThrottledShareCountsTime(t *testing.T) {
	// The last 2 s of 22, decayed with Memory (30 s): 12%.
	emptyShare := (1 - math.Exp(-2.0/30)) / (1 - math.Exp(-22.0/30))
	for _, tc := range []struct {
		name      string
		slowRate  float64 // the job's rate while the bucket is empty
		wantDamp  bool
		wantShare float64 // of time, about
	}{
		{"slowed to 1/s while empty", 1, true, emptyShare},
		{"still at 20/s while empty", 20, true, emptyShare},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(AutoConfig(25))
			s := c.Start(t0)
			now := time.Duration(0)
			feed := func(d time.Duration, rate float64, throttled bool) {
				gap := time.Duration(float64(time.Second) / rate)
				for end := now + d; now < end; {
					now += gap
					s = c.share(s, throttled, rate, at(now))
				}
			}
			feed(20*time.Second, 20, false)
			feed(2*time.Second, tc.slowRate, true)
			if got := s.ewThrGap / s.ewGap; math.Abs(got-tc.wantShare) > 0.01 {
				t.Errorf("throttled share %.3f, want about %.3f", got, tc.wantShare)
			}
			if damped := s.Damp < 1; damped != tc.wantDamp {
				t.Errorf("Damp = %.3f, want damped %v", s.Damp, tc.wantDamp)
			}
		})
	}
}
