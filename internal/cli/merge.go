package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/run"
)

// runMerge is `cogsweep merge-reports --output PATH REPORT...`: it joins the
// reports of a sharded job into one, in row order. Exit 0: every row of the
// input has its line and none is invalid, failed or not_attempted; 3: some
// rows are missing (a shard's report is missing or its run was killed) or
// have a problem outcome; 2: the reports are not shards of one job, or a row
// is in two of them.
func runMerge(args []string, env Env) error {
	fs := flag.NewFlagSet("cogsweep merge-reports", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var output, tmpDir string
	fs.StringVar(&output, "output", "", "the merged report to write (required)")
	fs.StringVar(&tmpDir, "temp-dir", "", "where large merges spill sorted runs (default: $TMPDIR)")
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, `Usage: cogsweep merge-reports --output PATH REPORT...

Join the reports of the shards of one job (--shard I/N) into one report: one
header, one line per row, in row order. Refuses reports of different inputs or
options, and a row present in two reports. The reports need not be sorted: large
ones are sorted in bounded memory through temporary files.

Example:
  cogsweep merge-reports --output purge.delete.report.ndjson purge.delete.shard-*-of-8.report.ndjson

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintf(env.Stderr, "\nEvery flag can be set by an environment variable: --output is %s.\nExit codes: 0 every row present and done, 2 refused, 3 rows missing or invalid/failed/not_attempted.\n", envName("output"))
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usage(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := env.Getenv(envName(f.Name)); !set[f.Name] && v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	if output == "" {
		errs = append(errs, errors.New("--output is required"))
	}
	if fs.NArg() == 0 {
		errs = append(errs, errors.New("give the shard reports to merge"))
	}
	if err := errors.Join(errs...); err != nil {
		return usage(err)
	}
	res, err := report.Merge(output, fs.Args(), report.MergeOptions{TempDir: tmpDir})
	if err != nil {
		if errors.Is(err, report.ErrMergeRefused) || errors.Is(err, report.ErrNoHeader) || errors.Is(err, os.ErrNotExist) {
			return usage(err)
		}
		return err
	}
	s := report.Summary{Counts: res.Counts}
	fmt.Fprintf(env.Stdout, "Merged %d reports of %s (%d rows): %s.\nReport: %s\n",
		fs.NArg(), res.Header.Action, res.Header.Rows, run.CountsString(res.Counts), output)
	if res.Missing > 0 {
		msg := fmt.Sprintf("%d of %d rows are in no report (first: %s)", res.Missing, res.Header.Rows, joinInts(res.FirstMissing))
		if len(res.MissingShards) > 0 {
			msg += fmt.Sprintf("; no report was given for shard(s) %s of %d", joinInts(res.MissingShards), len(res.MissingShards)+len(res.Shards))
		} else {
			msg += "; a shard's run did not finish: run it again to complete its report, then merge again"
		}
		fmt.Fprintf(env.Stderr, "cogsweep: %s\n", msg)
		return &RowProblems{N: res.Missing + s.Problems()}
	}
	if n := s.Problems(); n > 0 {
		return &RowProblems{N: n}
	}
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
