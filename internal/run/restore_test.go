package run

import (
	"math"
	"testing"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/batch"
)

// AdminCreateUser has a limiter of its own (UserCreation): --create-rate
// when --rate is a number, else an auto controller whose ceiling it is,
// starting below it (the auto start is half the ceiling), or, when the
// account plan read the UserCreation quota, whose ceiling that quota is,
// starting at the free share the plan found.
func TestCreateLimiter_PerCategory(t *testing.T) {
	creation := &accountPlan{category: account.UserCreation, maxRate: 100, free: 60}
	tests := []struct {
		name       string
		rate       string
		createRate float64
		acct       *accountPlan
		want       float64 // the limiter's first rate; 0: below createRate
	}{
		{name: "fixed", rate: "20", createRate: 40, want: 40},
		{name: "auto", rate: "auto", createRate: 40},
		{name: "auto from the creation quota's plan", rate: "auto", createRate: 40, acct: creation, want: 60},
		{name: "fixed keeps --create-rate beside a plan", rate: "20", createRate: 40, acct: creation, want: 40},
		{name: "a plan of writes is not one of creates", rate: "auto", createRate: 40,
			acct: &accountPlan{category: account.UserUpdate, maxRate: 100, free: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions(batch.Restore)
			o.Rate, o.CreateRate = tt.rate, tt.createRate
			p := &plan{run: newRun(o, Shard{}, Env{Getenv: func(string) string { return "" }})}
			got := p.createLimiter(tt.acct).Rate()
			if tt.want == 0 && (got <= 0 || got >= tt.createRate) || tt.want != 0 && math.Abs(got-tt.want) > 1e-3 {
				t.Errorf("first rate %g with --create-rate %g, want %g (0: under it)", got, tt.createRate, tt.want)
			}
		})
	}
}
