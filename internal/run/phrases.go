package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

// planPhrases reads a dry run's counts as a plan: "will delete 1,204 users;
// 17 not found; 3 protected".
func planPhrases(a batch.Action, counts map[report.Outcome]int) string {
	would := 0
	for o, n := range counts {
		if strings.HasPrefix(string(o), report.WouldPrefix) {
			would += n
		}
	}
	parts := []string{"will " + actionVerb(a) + " " + usersText(would)}
	named := []struct {
		o    report.Outcome
		text string
	}{
		{report.AlreadyDisabled, "already disabled"},
		{report.NotFound, "not found"},
		{report.Protected, "protected"},
		{report.SkippedNotDisabled, "skipped: not disabled"},
		{report.SkippedTooRecent, "skipped: disabled too recently"},
		{report.Duplicate, "duplicate"},
		{report.Invalid, "invalid"},
		{report.Failed, "could not be read"},
		{report.NotAttempted, "not reached"},
	}
	seen := map[report.Outcome]bool{}
	for _, nt := range named {
		seen[nt.o] = true
		if n := counts[nt.o]; n > 0 {
			parts = append(parts, thousands(n)+" "+nt.text)
		}
	}
	var rest []string
	for o, n := range counts {
		if n > 0 && !seen[o] && !strings.HasPrefix(string(o), report.WouldPrefix) {
			rest = append(rest, fmt.Sprintf("%s %s", thousands(n), o))
		}
	}
	slices.Sort(rest)
	return strings.Join(append(parts, rest...), "; ")
}

func actionVerb(a batch.Action) string {
	switch a {
	case batch.SignOut:
		return "sign out"
	case batch.DeleteAttributes:
		return "delete attributes of"
	case batch.SelfDelete:
		return "delete (with their own tokens)"
	case batch.Rollback:
		return "re-enable"
	}
	return string(a)
}

func usersText(n int) string {
	switch n {
	case 0:
		return "no users"
	case 1:
		return "1 user"
	}
	return thousands(n) + " users"
}
