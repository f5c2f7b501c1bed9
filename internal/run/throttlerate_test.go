package run

import (
	"math"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/progress"
)

// The progress log's throttles per minute come from a minute's Window.
func TestThrottleWindow(t *testing.T) {
	type snap struct {
		at        time.Duration
		throttles int
		want      float64
	}
	tests := []struct {
		name  string
		snaps []snap
	}{
		{name: "young run: over the run so far", snaps: []snap{
			{10 * time.Second, 0, 0},
			{20 * time.Second, 2, 6},
			{30 * time.Second, 3, 6},
		}},
		{name: "older run: the last minute only", snaps: []snap{
			{30 * time.Second, 30, 60},
			{60 * time.Second, 30, 30},
			{90 * time.Second, 30, 0},  // nothing since 30s
			{120 * time.Second, 33, 3}, // 3 since 60s
		}},
		{name: "snapshots a second apart", snaps: func() []snap {
			var s []snap
			for i := 1; i <= 180; i++ {
				s = append(s, snap{time.Duration(i) * time.Second, i / 10, -1})
			}
			s[len(s)-1].want = 6 // one throttle every 10 s
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := progress.Window{Span: time.Minute}
			for _, s := range tt.snaps {
				got := 60 * w.Rate(s.at, s.throttles)
				if s.want >= 0 && math.Abs(got-s.want) > 0.15 {
					t.Errorf("at %v with %d throttles: %.2f/min, want %.2f", s.at, s.throttles, got, s.want)
				}
			}
		})
	}
}

func TestPerMinuteOver(t *testing.T) {
	if got := perMinuteOver(30, 2*time.Minute); got != 15 {
		t.Errorf("30 throttles in 2 minutes = %v/min, want 15", got)
	}
	if got := perMinuteOver(3, 0); got != 0 {
		t.Errorf("no elapsed time = %v/min, want 0", got)
	}
}
