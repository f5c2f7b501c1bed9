package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/run"
)

// StatusOutput is what `cogsweep status --json` prints.
type StatusOutput struct {
	Checkpoint string                 `json:"checkpoint"`
	Report     string                 `json:"report"`
	Action     string                 `json:"action"`
	Input      string                 `json:"input"`
	Pool       string                 `json:"pool,omitempty"`
	DryRun     bool                   `json:"dry_run,omitempty"`
	Rows       int                    `json:"rows"`
	Done       int                    `json:"done"` // rows with an outcome in the report
	Counts     map[report.Outcome]int `json:"counts"`
	Runs       int                    `json:"runs"`
	State      string                 `json:"state"` // running, finished, interrupted, aborted, killed
	Reason     string                 `json:"reason,omitempty"`
	Started    time.Time              `json:"started"`
	Updated    time.Time              `json:"updated"`
	Running    bool                   `json:"running"` // a process holds the checkpoint's lock
	InFlight   int                    `json:"intents"`
	Report0    *report.Header         `json:"report_header,omitempty"`
	// Estimate is the plan's against progress (status_estimate.go).
	Estimate *StatusEstimate `json:"estimate,omitempty"`

	// Settled are the rows of Done tried to an outcome, NotAttempted the
	// others: a run that stopped records the rows it never reached.
	Settled      int `json:"settled"`
	NotAttempted int `json:"not_attempted"`
}

// statusOptions are `cogsweep status`'s flags.
type statusOptions struct {
	Checkpoint, Report string
	JSON               bool
}

// statusCommand is `cogsweep status`.
func statusCommand(env Env) *cobra.Command {
	var o statusOptions
	c := &cobra.Command{
		Use: "status", Short: "progress of a run from its checkpoint", GroupID: groupOther,
		Long:        "Show the progress of a run from its checkpoint: rows done of total, counts per outcome, when it started and was last updated, and whether a process is running it now.",
		Example:     "cogsweep status --checkpoint leavers.disable.checkpoint\ncogsweep status --checkpoint leavers.disable.checkpoint --json",
		Annotations: map[string]string{annExitCodes: "0 shown, 2 no such checkpoint or unreadable.", annEnv: "yes"},
		Args:        noArgs,
	}
	flags := c.Flags()
	flags.StringVar(&o.Checkpoint, "checkpoint", "", "the checkpoint `file` (required)")
	flags.StringVar(&o.Report, "report", "", "the report `file` (default: beside the checkpoint)")
	flags.BoolVar(&o.JSON, "json", false, "print JSON")
	completeFiles(c, map[string][]string{"checkpoint": {"checkpoint"}, "report": {"ndjson"}})
	c.RunE = func(*cobra.Command, []string) error {
		if _, err := bindEnv(flags, env.Getenv); err != nil {
			return usage(err)
		}
		return runStatus(o, env)
	}
	return c
}

func runStatus(o statusOptions, env Env) error {
	cp, rp, asJSON := o.Checkpoint, o.Report, o.JSON
	if cp == "" {
		return usage(errors.New("--checkpoint is required"))
	}
	if rp == "" {
		rp = run.ReportPathFor(cp)
	}
	s, err := run.ReadStatus(cp, rp)
	if err != nil {
		return err
	}
	st := s.Checkpoint
	out := StatusOutput{
		Checkpoint: cp, Report: rp, Action: st.Header.Action, Input: st.Header.Input, Pool: st.Header.Pool,
		DryRun: st.Header.DryRun, Rows: st.Header.Rows, Runs: st.Runs, Started: st.Header.CreatedAt,
		Updated: st.Updated, Running: st.Locked, InFlight: st.Intents, Reason: st.LastReason,
		State: st.RunState(), Counts: s.Counts, Done: s.Done, Report0: s.Header,
		NotAttempted: s.Counts[report.NotAttempted],
	}
	out.Settled = out.Done - out.NotAttempted
	end := st.Updated
	if st.Locked {
		end = time.Now()
		if env.Now != nil {
			end = env.Now()
		}
	}
	out.Estimate = planEstimate(out.Report0, out.Settled, end, out.State == "finished")
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := env.Stdout
	fmt.Fprintf(w, "%s of %s (pool %s)%s\n", out.Action, out.Input, orDash(out.Pool), map[bool]string{true: ", dry run"}[out.DryRun])
	fmt.Fprintf(w, "state:    %s after %d run(s)%s\n", out.State, out.Runs, reasonSuffix(out.Reason, out.State))
	fmt.Fprintf(w, "progress: %s\n", progressText(out))
	fmt.Fprintf(w, "outcomes: %s\n", run.CountsString(out.Counts))
	if out.Estimate != nil {
		fmt.Fprintf(w, "estimate: %s\n", out.Estimate)
	}
	fmt.Fprintf(w, "started:  %s\nupdated:  %s\n", out.Started.Format(time.RFC3339), out.Updated.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "files:    %s, %s\n", out.Checkpoint, out.Report)
	printAudit(w, out.Report0) // audit.go
	if out.State != "running" && out.State != "finished" && out.State != "not started" {
		fmt.Fprintln(w, "resume:   run the same command again")
	}
	return nil
}

// progressText says how many rows are done, apart from those a stopped
// run never reached (they have a not_attempted line; a resume tries them).
func progressText(out StatusOutput) string {
	s := fmt.Sprintf("%d of %d rows done", out.Settled, out.Rows)
	if out.NotAttempted > 0 {
		s += fmt.Sprintf(", %d not attempted", out.NotAttempted)
	}
	return s
}

func reasonSuffix(reason, state string) string {
	if reason == "" || state == "finished" || state == "running" {
		return ""
	}
	return " (" + reason + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
