package fakecognito

import (
	"context"
	"testing"
	"time"
)

func TestBucket_Take(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	type take struct {
		at   time.Duration
		want bool
	}
	tests := []struct {
		name  string
		quota Quota
		takes []take
	}{
		{"unlimited", Quota{}, []take{{0, true}, {0, true}, {0, true}}},
		{"starts full", Quota{Rate: 1, Burst: 3}, []take{{0, true}, {0, true}, {0, true}, {0, false}}},
		{"burst below 1 is 1", Quota{Rate: 5}, []take{{0, true}, {0, false}, {200 * time.Millisecond, true}}},
		{"ten per second for one second gives exactly ten", Quota{Rate: 10, Burst: 1}, []take{
			{0, true}, {100 * time.Millisecond, true}, {200 * time.Millisecond, true}, {300 * time.Millisecond, true},
			{400 * time.Millisecond, true}, {500 * time.Millisecond, true}, {600 * time.Millisecond, true},
			{700 * time.Millisecond, true}, {800 * time.Millisecond, true}, {900 * time.Millisecond, true},
			{900 * time.Millisecond, false},
		}},
		{"refill is capped at the burst", Quota{Rate: 100, Burst: 2}, []take{
			{0, true}, {0, true}, {time.Hour, true}, {time.Hour, true}, {time.Hour, false},
		}},
		{"fractional rate", Quota{Rate: 0.5, Burst: 1}, []take{
			{0, true}, {1999 * time.Millisecond, false}, {2 * time.Second, true},
		}},
		{"time going back refills nothing", Quota{Rate: 1, Burst: 1}, []take{
			{5 * time.Second, true}, {0, false}, {5 * time.Second, false}, {6 * time.Second, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket(tt.quota, t0)
			for i, tk := range tt.takes {
				if got := b.take(t0.Add(tk.at)); got != tk.want {
					t.Fatalf("take %d at %v = %v, want %v", i, tk.at, got, tk.want)
				}
			}
		})
	}
}

func TestProduction_Schedule(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		quota         Quota
		schedule      []Step
		horizon       time.Duration
		batchAt       []time.Duration // batch job calls taking UserUpdate tokens
		wantServed    int
		wantThrottled int
	}{
		{
			name:  "under the quota nothing is throttled",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}}, horizon: 2 * time.Second,
			// arrivals at 0.2, 0.4, ..., 1.8
			wantServed: 9,
		},
		{
			name:  "a rate step above the quota is throttled half the time",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}, {time.Second, 20}, {2 * time.Second, 0}},
			horizon: 3 * time.Second,
			// 4 arrivals below 1 s; 19 arrivals 50 ms apart from 1.05 s, each
			// refilling half a token: served, then alternately throttled.
			wantServed: 4 + 1 + 9, wantThrottled: 9,
		},
		{
			name:  "a batch job spending the tokens throttles production",
			quota: Quota{Rate: 10, Burst: 1}, schedule: []Step{{0, 5}}, horizon: time.Second,
			// production arrives at 0.2, 0.4, 0.6, 0.8; the batch takes the
			// token refilled just before 0.4 and 0.8.
			batchAt:    []time.Duration{350 * time.Millisecond, 750 * time.Millisecond},
			wantServed: 2, wantThrottled: 2,
		},
		{
			name:  "unlimited quota serves everything",
			quota: Quota{}, schedule: []Step{{0, 1000}}, horizon: time.Second,
			wantServed: 999,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Now: func() time.Time { return t0 }, UserUpdate: tt.quota})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var now time.Duration
			batch := tt.batchAt
			// waitUntil plays the clock forward instead of sleeping, doing
			// the batch job's calls that fall before the next arrival.
			waitUntil := func(ctx context.Context, off time.Duration) bool {
				for len(batch) > 0 && batch[0] <= off && batch[0] < tt.horizon {
					s.Advance(batch[0] - now)
					now = batch[0]
					s.takeQuota(UserUpdate)
					batch = batch[1:]
				}
				if off >= tt.horizon {
					cancel()
					return false
				}
				s.Advance(off - now)
				now = off
				return true
			}
			s.runProduction(ctx, tt.schedule, waitUntil)
			if s.ProductionServed() != tt.wantServed || s.ProductionThrottled() != tt.wantThrottled {
				t.Errorf("served %d throttled %d, want %d and %d",
					s.ProductionServed(), s.ProductionThrottled(), tt.wantServed, tt.wantThrottled)
			}
		})
	}
}

func TestStartProduction_RunsUntilCancelled(t *testing.T) {
	s := New(Options{UserUpdate: Quota{Rate: 1, Burst: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := s.StartProduction(ctx, []Step{{0, 200}})
	deadline := time.Now().Add(10 * time.Second)
	for s.ProductionThrottled() < 3 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no throttled production calls after 10 s (served %d)", s.ProductionServed())
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not waiting for an outcome
	}
	cancel()
	<-done
	if s.ProductionServed() < 1 {
		t.Errorf("served %d production calls, want the burst at least", s.ProductionServed())
	}
}
