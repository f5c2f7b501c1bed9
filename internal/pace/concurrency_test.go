package pace

import (
	"testing"
	"time"
)

func TestConcurrency(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		latency  time.Duration
		min, max int
		want     int
	}{
		{name: "default rate, typical latency", rate: 20, latency: 100 * time.Millisecond, min: 1, max: 64, want: 4},
		{name: "slow answers need more", rate: 20, latency: time.Second, min: 1, max: 64, want: 31},
		{name: "exact product rounds up", rate: 10, latency: 200 * time.Millisecond, min: 1, max: 64, want: 4},
		{name: "clamped to max", rate: 100, latency: 2 * time.Second, min: 1, max: 64, want: 64},
		{name: "clamped to min", rate: 1, latency: 10 * time.Millisecond, min: 4, max: 64, want: 4},
		{name: "no latency yet", rate: 20, latency: 0, min: 2, max: 64, want: 2},
		{name: "max below min", rate: 20, latency: time.Second, min: 8, max: 2, want: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Concurrency(tt.rate, tt.latency, tt.min, tt.max); got != tt.want {
				t.Errorf("Concurrency(%v, %v, %d, %d) = %d, want %d", tt.rate, tt.latency, tt.min, tt.max, got, tt.want)
			}
		})
	}
}

func TestEWMA(t *testing.T) {
	e := NewEWMA(0.5)
	if e.Value() != 0 {
		t.Errorf("empty = %v", e.Value())
	}
	for _, d := range []time.Duration{100, 200, 0, -5, 200} {
		e.Observe(d * time.Millisecond)
	}
	// 100, then 150, ignored, ignored, 175.
	if e.Value() != 175*time.Millisecond {
		t.Errorf("value = %v, want 175ms", e.Value())
	}
	if bad := NewEWMA(7); bad.alpha != 0.1 {
		t.Errorf("alpha out of range kept: %v", bad.alpha)
	}
}
