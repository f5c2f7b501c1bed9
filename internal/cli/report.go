package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogsweep/cogsweep/internal/reportpage"
	"github.com/cogsweep/cogsweep/internal/run"
)

// reportOptions are `cogsweep report`'s flags.
type reportOptions struct {
	HTML      string
	Timelines []string
	MaxRows   int
}

// reportCommand is `cogsweep report REPORT [--html OUT]`: the summary of a
// run, finished, interrupted, resumed or merged, as text or as one page.
func reportCommand(env Env) *cobra.Command {
	o := reportOptions{MaxRows: 1000}
	c := &cobra.Command{
		Use: "report REPORT", Short: "summarize a run from its report, as text or as an HTML page (--html)", GroupID: groupOther,
		Long:        "Summarize a run from its report: outcomes, the rows that need a person (invalid, failed, not_attempted) with their reasons, the audit record, and from the run's timeline (beside the checkpoint) its calls per second against the limiter's rate, throttles and latency. With --html, one self-contained page (inline SVG, no script, nothing fetched); --html - writes it to stdout. A merged report finds each shard's timeline beside the shard reports it was merged from.",
		Example:     "cogsweep report leavers.disable.report.ndjson\ncogsweep report leavers.disable.report.ndjson --html leavers.html",
		Annotations: map[string]string{annExitCodes: "0 written, 2 no report or not a report.", annEnv: "yes"},
	}
	flags := c.Flags()
	flags.StringVar(&o.HTML, "html", "", "write an HTML page to this `file` (- for stdout) instead of the text summary")
	flags.Var((*listFlag)(&o.Timelines), "timeline", "a timeline `file`, repeatable (default: beside the checkpoint beside the report, or each merged shard's)")
	flags.IntVar(&o.MaxRows, "max-rows", o.MaxRows, "the most rows the needs-a-person table lists; the rest are counted")
	completeFiles(c, map[string][]string{"html": {"html"}, "timeline": {"ndjson"}})
	c.ValidArgsFunction = fileArgs("ndjson")
	c.RunE = func(_ *cobra.Command, args []string) error {
		if _, err := bindEnv(flags, env.Getenv); err != nil {
			return usage(err)
		}
		return runReport(o, args, env)
	}
	return c
}

func runReport(o reportOptions, args []string, env Env) error {
	switch {
	case len(args) == 0:
		return usage(errors.New("give the report: cogsweep report REPORT [--html OUT]"))
	case len(args) > 1:
		return usage(fmt.Errorf("one report at a time (got %q too): merge shard reports with merge-reports first", args[1]))
	}
	path := args[0]
	if strings.Contains(path, "://") {
		return usage(errors.New("report reads a local report: copy it from S3 first (aws s3 cp)"))
	}
	if o.MaxRows < 1 {
		return usage(errors.New("--max-rows must be at least 1"))
	}
	d, err := run.LoadPage(run.PageOptions{Report: path, Timelines: o.Timelines, MaxRows: o.MaxRows})
	if err != nil {
		return err
	}
	if o.HTML == "" {
		return reportpage.WriteText(env.Stdout, d)
	}
	if o.HTML == "-" {
		return reportpage.WriteHTML(env.Stdout, d)
	}
	return run.WritePage(o.HTML, d)
}
