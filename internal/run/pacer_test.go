package run

import (
	"context"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/pacer"
)

// A throttled ListUsers call slows the UserList limiter that --select, the
// protect groups and the pipeline's email rows share: one quota, one bucket
// that backs off together. (Before the pacer, the pipeline's adapter of that
// limiter had a Throttled that did nothing.)
func TestRun_ThrottledListCallSlowsTheListLimiter(t *testing.T) {
	tests := []struct {
		name     string
		listRate float64
	}{
		{name: "default list rate", listRate: 30},
		{name: "a shard's share", listRate: 7.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions(batch.Disable)
			o.ListRate = tt.listRate
			r := newRun(o, Shard{}, Env{Getenv: func(string) string { return "" }})
			lists := r.pacer.Limiter(pacer.UserList)
			calls := 0
			res := r.pacer.Call(context.Background(), pacer.UserList, func(context.Context) error {
				if calls++; calls == 1 {
					return &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "Rate exceeded"}
				}
				return nil
			})
			if res.Err != nil || res.Throttles != 1 {
				t.Fatalf("call: %+v", res)
			}
			if got := lists.Rate(); !(got < tt.listRate) {
				t.Errorf("list limiter at %g/s after a throttle, want below --list-rate %g", got, tt.listRate)
			}
		})
	}
}
