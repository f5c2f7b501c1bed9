package run

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cogsweep/cogsweep/internal/buildinfo"
	"github.com/cogsweep/cogsweep/internal/cognito"
)

// The audit record answers what security teams ask of every bulk change:
// who ran it, with which tool and settings, against what. It is the report
// header's "audit" (written at a run's first start: a resume keeps the
// header) and the summary's (every run), and it is logged at every start.

// auditOption is one effective option: its value and where it came from
// (default, flag, or env:COGSWEEP_...).
type auditOption struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// audit builds the audit record of the input src. What the pre-flight
// learns (the caller, the account) is added by completeAudit, before the
// header is written.
func (r *plan) audit(src Source) map[string]any {
	o := r.o
	b := buildinfo.Read(r.env.Version, r.env.Commit)
	a := map[string]any{
		"tool": "cogsweep",
		// The same string as `cogsweep version`: what a user reads there
		// is what the audit kept.
		"tool_version": b.String(),
		"commit":       cmp.Or(b.Commit, "unknown"),
		"go_version":   b.GoVersion,
		"region":       r.region,
		"pools":        r.auditPools(),
		"action":       string(o.Action),
		"dry_run":      o.DryRun,
		"input":        r.displayInput(),
		"input_sha256": r.scan.SHA256,
		"fingerprint":  r.fingerprint,
		"rows":         r.scan.Rows,
		"options":      r.auditOptions(),
	}
	if b.Modified {
		a["commit_modified"] = true // built from a tree with uncommitted changes
	}
	if src.Path != "" { // a local file; stdin and S3 objects are spooled
		if abs, err := filepath.Abs(src.Path); err == nil {
			a["input_path"] = abs
		}
	}
	if h, err := os.Hostname(); err == nil {
		a["host"] = h // the pod, in Kubernetes
	}
	if r.shard.Sharded() {
		a["shard"] = r.shard.String()
	}
	maps.Copy(a, src.Audit) // where an input in S3 came from
	if off := r.guardsOffByEnv(); len(off) > 0 {
		names := make([]string, 0, len(off))
		for _, g := range off {
			names = append(names, g.variable)
			r.log.Warn("a safety guard is turned off by an environment variable", "variable", g.variable, "value", g.value, "guard", g.guard, "effect", g.effect)
		}
		a["guards_off_by_env"] = names
	}
	return a
}

// completeAudit adds to the audit record what admit learnt: the caller and
// the account's plan.
func completeAudit(audit map[string]any, a *admission) {
	if a.caller != nil {
		audit["caller"] = *a.caller
	}
	if a.account != nil {
		audit["account"] = a.account.audit
	}
}

// logAudit logs the audit record at the start of every run, resumes
// included (the report header keeps the first start's): the whole record
// is in the header and the summary, the log line names the essentials and
// the options not left at their default.
func (r *run) logAudit(a map[string]any, who *cognito.Caller) {
	if a == nil {
		return
	}
	caller := "unchecked"
	if who != nil {
		caller = who.ARN
	}
	if r.console {
		// A person at a terminal: who they act as; the record itself is in
		// the report header (and the JSON log's audit line).
		r.log.Info("as " + caller + " (audit record: the report header)")
		return
	}
	var set []string
	for name, o := range r.auditOptions() {
		if o.Source != "default" {
			set = append(set, fmt.Sprintf("--%s=%s (%s)", name, o.Value, o.Source))
		}
	}
	sort.Strings(set)
	r.log.Info("audit", "caller", caller, "tool_version", a["tool_version"], "commit", a["commit"], "region", a["region"],
		"pools", a["pools"], "action", a["action"], "input", a["input"], "input_sha256", a["input_sha256"], "rows", a["rows"],
		"options", strings.Join(set, " "))
}

// auditPools lists the pools the run is told about: --user-pool-id and
// --confirm-pool-id. Pools named only in rows are in each report line.
func (r *run) auditPools() []string {
	pools := []string{}
	if r.o.UserPoolID != "" {
		pools = append(pools, r.o.UserPoolID)
	}
	for _, p := range r.o.ConfirmPools {
		if !slices.Contains(pools, p) {
			pools = append(pools, p)
		}
	}
	return pools
}

// auditOptions is every option the command has, with its effective value
// and source. Credentials in a URL's user part are not recorded.
func (r *run) auditOptions() map[string]auditOption {
	out := make(map[string]auditOption, len(r.o.Sources))
	for name, src := range r.o.Sources {
		out[name] = auditOption{Value: redactURL(r.o.Values[name]), Source: src}
	}
	return out
}

// redactURL hides the password of a URL such as https://user:pass@host.
func redactURL(v string) string {
	if !strings.Contains(v, "://") {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	u.User = url.User("redacted")
	return u.String()
}

// guardOff is a safety guard an environment variable turned off.
type guardOff struct {
	variable, value, guard, effect string
}

// guardsOffByEnv finds the safety guards that a COGSWEEP_* variable turned
// off, rather than a person at the command line: a variable set once in a
// CronJob applies to every later run, so it deserves a warning in each.
func (r *run) guardsOffByEnv() []guardOff {
	o := r.o
	var out []guardOff
	fromEnv := func(flag string) (string, bool) {
		src := o.Sources[flag]
		name, ok := strings.CutPrefix(src, "env:")
		return name, ok
	}
	if name, ok := fromEnv("max-fraction"); ok && o.MaxFraction >= 1 {
		out = append(out, guardOff{name, o.Values["max-fraction"], "--max-fraction", "deletes are not limited to a fraction of the pool"})
	}
	if name, ok := fromEnv("max-users"); ok && o.MaxUsers == 0 {
		out = append(out, guardOff{name, o.Values["max-users"], "--max-users", "no limit on the number of rows"})
	}
	if name, ok := fromEnv("confirm-pool-id"); ok {
		out = append(out, guardOff{name, o.Values["confirm-pool-id"], "--confirm-pool-id", "irreversible actions are confirmed by the environment, not by a person"})
	}
	if name, ok := fromEnv("restart"); ok && o.Restart {
		out = append(out, guardOff{name, o.Values["restart"], "unfinished-run check", "an unfinished run is archived instead of stopping this one"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].variable < out[j].variable })
	return out
}
