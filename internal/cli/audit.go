package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cogsweep/cogsweep/internal/report"
)

// printAudit writes the audit record of a report header for people
// (`cogsweep status`).
func printAudit(w io.Writer, h *report.Header) {
	if h == nil || len(h.Audit) == 0 {
		return
	}
	a := h.Audit
	s := func(k string) string {
		if v, ok := a[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return "-"
	}
	caller := "-"
	if c, ok := a["caller"].(map[string]any); ok {
		caller = fmt.Sprintf("%v (account %v)", c["arn"], c["account"])
	}
	// A tool_version of this build names its commit already; older
	// reports kept it apart.
	build := s("tool_version")
	if !strings.Contains(build, "(commit ") {
		build += ", commit " + s("commit")
		if a["commit_modified"] == true {
			build += " (modified)"
		}
	}
	fmt.Fprintf(w, "audit:    started %s by %s on %s\n", h.StartedAt.Format("2006-01-02T15:04:05Z07:00"), caller, s("host"))
	fmt.Fprintf(w, "          cogsweep %s\n", build)
	fmt.Fprintf(w, "          %s in %s, pools %s\n", s("action"), s("region"), s("pools"))
	fmt.Fprintf(w, "          input %s (%s rows, sha256 %s)\n", s("input"), s("rows"), s("input_sha256"))
	if off, ok := a["guards_off_by_env"]; ok {
		fmt.Fprintf(w, "          guards turned off by environment: %v\n", off)
	}
	opts, _ := a["options"].(map[string]any)
	names := make([]string, 0, len(opts))
	for n := range opts {
		names = append(names, n)
	}
	sort.Strings(names)
	var set []string
	for _, n := range names {
		o, _ := opts[n].(map[string]any)
		if src := fmt.Sprint(o["source"]); src != "default" {
			set = append(set, fmt.Sprintf("--%s=%v (%s)", n, o["value"], src))
		}
	}
	if len(set) > 0 {
		fmt.Fprintf(w, "          options: %s\n", strings.Join(set, " "))
	}
}
