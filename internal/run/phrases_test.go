package run

import (
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

func TestPlanPhrases(t *testing.T) {
	tests := []struct {
		name   string
		action string
		counts map[report.Outcome]int
		want   string
	}{
		{"delete", "delete", map[report.Outcome]int{"would_delete": 1204, report.NotFound: 17, report.Protected: 3}, "will delete 1,204 users; 17 not found; 3 protected"},
		{"disable", "disable", map[report.Outcome]int{"would_disable": 1, report.AlreadyDisabled: 2, report.Invalid: 1}, "will disable 1 user; 2 already disabled; 1 invalid"},
		{"nothing", "sign-out", map[report.Outcome]int{report.NotFound: 2}, "will sign out no users; 2 not found"},
		{"two-phase", "delete", map[report.Outcome]int{"would_delete": 5, report.SkippedTooRecent: 1000000}, "will delete 5 users; 1,000,000 skipped: disabled too recently"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := planPhrases(batch.Action(tt.action), tt.counts); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
