package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reportpage"
	"github.com/cogsweep/cogsweep/internal/run"
	"github.com/cogsweep/cogsweep/internal/timeline"
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
	h, err := report.ReadHeader(path)
	if err != nil {
		return usage(err)
	}
	tls := o.Timelines
	if len(tls) == 0 {
		tls = timelinesFor(path, h)
	}
	d, err := reportpage.Load(reportpage.Options{Report: path, Timelines: tls, Status: runStatusOf(path, h), MaxRows: o.MaxRows})
	if err != nil {
		return err
	}
	if o.HTML == "" {
		return reportpage.WriteText(env.Stdout, d)
	}
	if o.HTML == "-" {
		return reportpage.WriteHTML(env.Stdout, d)
	}
	return writePage(o.HTML, d)
}

// writePage writes the page through a temporary file and a rename: the
// page names users like the report, so it is 0600 and never a symlink.
func writePage(path string, d *reportpage.Data) error {
	if err := fsutil.RefuseSymlink("page", path); err != nil {
		return usage(err)
	}
	tmp := path + ".tmp"
	f, err := fsutil.OpenPrivate("page", tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return run.UsageIfSymlink(fmt.Errorf("write page: %w", err))
	}
	err = reportpage.WriteHTML(f, d)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write page: %w", cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// timelinesFor finds the timelines of a report: beside its checkpoint, or
// for a merged report beside each shard's.
func timelinesFor(path string, h report.Header) []string {
	if from, ok := h.Audit["merged_from"].([]any); ok {
		var out []string
		for _, f := range from {
			if m, ok := f.(map[string]any); ok {
				if p, ok := m["path"].(string); ok && !strings.Contains(p, "://") {
					if !filepath.IsAbs(p) {
						// merge-reports records the paths it was given;
						// they are read from beside the merged report.
						p = filepath.Join(filepath.Dir(path), filepath.Base(p))
					}
					out = append(out, timeline.PathFor(run.CheckpointPathFor(p)))
				}
			}
		}
		return out
	}
	return []string{timeline.PathFor(run.CheckpointPathFor(path))}
}

// runStatusOf is how the run of the report last ended, from its checkpoint
// ("" when there is none beside it: the timeline tells then).
func runStatusOf(path string, h report.Header) string {
	if _, ok := h.Audit["merged_from"]; ok {
		return ""
	}
	st, err := checkpoint.Status(run.CheckpointPathFor(path))
	if err != nil {
		return "" // none, or unreadable: the timeline tells
	}
	switch {
	case st.Locked:
		return "running"
	case st.Runs == 0:
		return "not started"
	case !st.Ended:
		return "killed"
	}
	return st.LastStatus
}
