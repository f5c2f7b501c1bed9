package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/run"
)

// mergeCommand is `cogsweep merge-reports --output PATH REPORT...`: it joins the
// reports of a sharded job into one, in row order. Exit 0: every row of the
// input has its line and none is invalid, failed or not_attempted; 3: some
// rows are missing (a shard's report is missing or its run was killed) or
// have a problem outcome; 2: the reports are not shards of one job, or a row
// is in two of them.
func mergeCommand(env Env) *cobra.Command {
	var output, tmpDir string
	c := &cobra.Command{
		Use: "merge-reports --output PATH REPORT...", Short: "join the reports of a sharded job (--shard I/N) into one", GroupID: groupOther,
		Long:        "Join the reports of the shards of one job (--shard I/N) into one report: one header, one line per row, in row order. Refuses reports of different inputs or options, and a row present in two reports. The reports need not be sorted: large ones are sorted in bounded memory through temporary files.",
		Example:     "cogsweep merge-reports --output purge.delete.report.ndjson purge.delete.shard-*-of-8.report.ndjson",
		Annotations: map[string]string{annExitCodes: "0 every row present and done, 2 refused, 3 rows missing or invalid/failed/not_attempted.", annEnv: "yes"},
	}
	flags := c.Flags()
	flags.StringVar(&output, "output", "", "the merged report to write (required)")
	flags.StringVar(&tmpDir, "temp-dir", "", "where large merges spill sorted runs (default: $TMPDIR)")
	completeFiles(c, map[string][]string{"output": {"ndjson"}, "temp-dir": nil})
	c.ValidArgsFunction = fileArgs("ndjson")
	c.RunE = func(_ *cobra.Command, args []string) error {
		return runMerge(output, tmpDir, args, flags, env)
	}
	return c
}

func runMerge(output, tmpDir string, reports []string, flags *pflag.FlagSet, env Env) error {
	_, err := bindEnv(flags, env.Getenv)
	errs := []error{err}
	if output == "" {
		errs = append(errs, errors.New("--output is required"))
	}
	if len(reports) == 0 {
		errs = append(errs, errors.New("give the shard reports to merge"))
	}
	if err := errors.Join(errs...); err != nil {
		return usage(err)
	}
	res, err := report.Merge(output, reports, report.MergeOptions{TempDir: tmpDir})
	if err != nil {
		if errors.Is(err, report.ErrMergeRefused) || errors.Is(err, report.ErrNoHeader) || errors.Is(err, os.ErrNotExist) {
			return usage(err)
		}
		return err
	}
	s := report.Summary{Counts: res.Counts}
	fmt.Fprintf(env.Stdout, "Merged %d reports of %s (%d rows): %s.\nReport: %s\n",
		len(reports), res.Header.Action, res.Header.Rows, run.CountsString(res.Counts), output)
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
