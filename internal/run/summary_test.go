package run

import (
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

// Reads have their own limiter: the summary must not set all calls beside
// the write limit, which reads like a broken limit (40.1 calls/s, limiter
// at 20.0/s).
func TestPlanText_WritesAndReadsApart(t *testing.T) {
	tests := []struct {
		name string
		s    report.Summary
		want []string
		not  []string
	}{
		{name: "disable reads then writes",
			s: report.Summary{Status: "finished", Rows: 200, Counts: map[report.Outcome]int{report.Disabled: 200},
				Calls: 400, Writes: 200, Reads: 200, ElapsedSeconds: 10, AchievedRate: 40, LimiterRate: 20, ReadLimiterRate: 25},
			want: []string{"400 calls in 10.0s", "writes 200, 20.0/s (limit 20.0/s at the end)", "reads 200, 20.0/s (limit 25.0/s)"},
			not:  []string{"calls/s", "limiter at"}},
		{name: "refused before the first call",
			s:    report.Summary{Status: "refused", Rows: 3, Counts: map[report.Outcome]int{report.NotAttempted: 3}},
			want: []string{"writes 0, 0.0/s (no limiter started)", "reads 0, 0.0/s (no limiter started)"},
			not:  []string{"limit 0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := planText(batch.Disable, false, tt.s)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary %q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("summary %q still says %q", got, n)
				}
			}
		})
	}
}
