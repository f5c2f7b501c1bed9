package batch

import (
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/report"
)

// TestActions_EachHasASpec: the pipeline runs what a spec says, so an
// action missing a step would do nothing, silently.
func TestActions_EachHasASpec(t *testing.T) {
	for _, a := range Actions {
		t.Run(string(a), func(t *testing.T) {
			s := a.spec()
			switch {
			case s.call == nil && s.steps == nil:
				t.Fatal("no call")
			case s.done == "":
				t.Fatal("no outcome for a call that succeeded")
			case !strings.HasPrefix(string(s.would), report.WouldPrefix):
				t.Fatalf("dry-run outcome %q", s.would)
			case !s.admin && !s.token:
				t.Fatal("accepts no row")
			case s.quota == "" || (&Job{Writes: nopLimiter{}, Creates: nopLimiter{}}).limiter(s.quota) == nil:
				t.Fatalf("quota %q has no limiter", s.quota)
			}
		})
	}
}

type nopLimiter struct{ Limiter }
