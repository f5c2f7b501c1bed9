package cli

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/cogsweep/cogsweep/internal/reportpage"
	"github.com/cogsweep/cogsweep/internal/run"
)

// reportOptions are `cogsweep report`'s flags.
type reportOptions struct {
	HTML      string
	Timelines []string
	MaxRows   int
}

// runReport is `cogsweep report REPORT [--html OUT]`: the summary of a
// run, finished, interrupted, resumed or merged, as text or as one page.
func runReport(args []string, env Env) error {
	o := reportOptions{MaxRows: 1000}
	flags := newFlagSet("report", "Summarize a run from its report: outcomes, the rows that need a person (invalid, failed,\nnot_attempted) with their reasons, the audit record, and from the run's timeline (beside the\ncheckpoint) its calls per second against the limiter's rate, throttles and latency. With --html,\none self-contained page (inline SVG, no script, nothing fetched); --html - writes it to stdout.\nThe report goes first: cogsweep report REPORT [flags]. A merged report finds each shard's timeline\nbeside the shard reports it was merged from.",
		"cogsweep report leavers.disable.report.ndjson --html leavers.html", env.Stderr)
	flags.StringVar(&o.HTML, "html", "", "write an HTML page to this file (- for stdout) instead of the text summary")
	flags.Var((*listFlag)(&o.Timelines), "timeline", "a timeline file, repeatable (default: beside the checkpoint beside the report, or each merged shard's)")
	flags.IntVar(&o.MaxRows, "max-rows", o.MaxRows, "the most rows the needs-a-person table lists; the rest are counted")
	// The report may come before the flags, as the usage line shows.
	var path string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		path, args = args[0], args[1:]
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usage(err)
	}
	if err := bindEnv(flags, env.Getenv); err != nil {
		return usage(err)
	}
	if path == "" && flags.NArg() > 0 {
		path = flags.Arg(0)
	} else if flags.NArg() > 0 {
		return usage(fmt.Errorf("one report at a time (got %q too): merge shard reports with merge-reports first", flags.Arg(0)))
	}
	if path == "" {
		return usage(errors.New("give the report: cogsweep report REPORT [--html OUT]"))
	}
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

// bindEnv sets each flag not given from its COGSWEEP_ variable.
func bindEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); !set[f.Name] && v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}
