package run

import (
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
)

// AdminCreateUser has a limiter of its own (UserCreation): --create-rate
// when --rate is a number, else an auto controller whose ceiling it is,
// starting below it (the auto start is half the ceiling).
func TestCreateLimiter_PerCategory(t *testing.T) {
	tests := []struct {
		name       string
		rate       string
		createRate float64
		wantAuto   bool
	}{
		{name: "fixed", rate: "20", createRate: 40},
		{name: "auto", rate: "auto", createRate: 40, wantAuto: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions(batch.Restore)
			o.Rate, o.CreateRate = tt.rate, tt.createRate
			p := &plan{run: newRun(o, Shard{}, Env{Getenv: func(string) string { return "" }})}
			lim := p.createLimiter()
			if got := lim.Rate(); tt.wantAuto && (got <= 0 || got >= tt.createRate) || !tt.wantAuto && got != tt.createRate {
				t.Errorf("rate %g with --create-rate %g (auto %t)", got, tt.createRate, tt.wantAuto)
			}
		})
	}
}
