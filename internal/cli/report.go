package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reportpage"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// reportOptions are `cogsweep report`'s flags.
type reportOptions struct {
	HTML      string
	Timelines stringList
	MaxRows   int
}

// runReport is `cogsweep report REPORT [--html OUT]`: the summary of a
// run, finished, interrupted, resumed or merged, as text or as one page.
func runReport(args []string, env Env) error {
	o := reportOptions{MaxRows: 1000}
	flags := newFlagSet("report", "Summarize a run from its report: outcomes, the rows that need a person (invalid, failed,\nnot_attempted) with their reasons, the audit record, and from the run's timeline (beside the\ncheckpoint) its calls per second against the limiter's rate, throttles and latency. With --html,\none self-contained page (inline SVG, no script, nothing fetched); --html - writes it to stdout.\nThe report goes first: cogsweep report REPORT [flags]. A merged report finds each shard's timeline\nbeside the shard reports it was merged from.",
		"cogsweep report leavers.disable.report.ndjson --html leavers.html", env.Stderr)
	flags.StringVar(&o.HTML, "html", "", "write an HTML page to this file (- for stdout) instead of the text summary")
	flags.Var(&o.Timelines, "timeline", "a timeline file, repeatable (default: beside the checkpoint beside the report, or each merged shard's)")
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

// writePage writes the page through a temporary file and a rename: the
// page names users like the report, so it is 0600 and never a symlink.
func writePage(path string, d *reportpage.Data) error {
	if err := fsutil.RefuseSymlink("page", path); err != nil {
		return usage(err)
	}
	tmp := path + ".tmp"
	f, err := fsutil.OpenPrivate("page", tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return usageIfSymlink(fmt.Errorf("write page: %w", err))
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
					out = append(out, timeline.PathFor(checkpointPathFor(p)))
				}
			}
		}
		return out
	}
	return []string{timeline.PathFor(checkpointPathFor(path))}
}

// runStatusOf is how the run of the report last ended, from its checkpoint
// ("" when there is none beside it: the timeline tells then).
func runStatusOf(path string, h report.Header) string {
	if _, ok := h.Audit["merged_from"]; ok {
		return ""
	}
	st, err := checkpoint.Status(checkpointPathFor(path))
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
