package retry

import (
	"math"
	"testing"
	"time"
)

func TestPolicy_Delay(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Cap: 20 * time.Second, MaxAttempts: 8}
	tests := []struct {
		name    string
		policy  Policy
		attempt int
		u       float64
		want    time.Duration
	}{
		{name: "first retry upper bound", policy: p, attempt: 1, u: 0.999999, want: 99999900 * time.Nanosecond},
		{name: "first retry half", policy: p, attempt: 1, u: 0.5, want: 50 * time.Millisecond},
		{name: "zero jitter", policy: p, attempt: 5, u: 0, want: 0},
		{name: "doubles", policy: p, attempt: 2, u: 0.5, want: 100 * time.Millisecond},
		{name: "seventh", policy: p, attempt: 7, u: 0.5, want: 3200 * time.Millisecond},
		{name: "just under cap", policy: p, attempt: 8, u: 0.5, want: 6400 * time.Millisecond},
		{name: "capped", policy: p, attempt: 9, u: 0.5, want: 10 * time.Second},
		{name: "far past cap", policy: p, attempt: 40, u: 0.5, want: 10 * time.Second},
		{name: "huge attempt no overflow", policy: p, attempt: math.MaxInt, u: 0.5, want: 10 * time.Second},
		{name: "attempt zero taken as one", policy: p, attempt: 0, u: 0.5, want: 50 * time.Millisecond},
		{name: "u above range clamped", policy: p, attempt: 1, u: 7, want: 99999900 * time.Nanosecond},
		{name: "negative u", policy: p, attempt: 3, u: -1, want: 0},
		{name: "NaN u", policy: p, attempt: 3, u: math.NaN(), want: 0},
		{name: "no cap", policy: Policy{Base: time.Second}, attempt: 11, u: 0.5, want: 512 * time.Second},
		{name: "no cap huge attempt", policy: Policy{Base: time.Second}, attempt: 200, u: 0.5, want: time.Duration(0.5 * float64(math.MaxInt64))},
		{name: "zero base", policy: Policy{Cap: time.Second}, attempt: 3, u: 0.5, want: 0},
		{name: "base above cap", policy: Policy{Base: time.Minute, Cap: time.Second}, attempt: 1, u: 0.5, want: 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Delay(tt.attempt, tt.u); got != tt.want {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.u, got, tt.want)
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if p.Base != 100*time.Millisecond || p.Cap != 20*time.Second || p.MaxAttempts != 8 {
		t.Fatalf("DefaultPolicy() = %+v", p)
	}
	// The worst case of all waits is what the doc comment promises.
	var worst time.Duration
	for a := 1; a < p.MaxAttempts; a++ {
		worst += p.Delay(a, 0.9999999)
	}
	if worst < 12600*time.Millisecond || worst > 12700*time.Millisecond {
		t.Errorf("sum of maximum waits = %v, want about 12.7s", worst)
	}
}
