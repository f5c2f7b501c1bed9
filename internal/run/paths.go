package run

import (
	"path/filepath"
	"strings"
)

// ReportSuffix ends every default report name; the checkpoint replaces it.
const ReportSuffix = ".report.ndjson"

// DefaultReportPath names a run's report from what the command says, never
// from the input's content, so the same command finds the same files again:
// <input name without extension>.<action>[.shard-I-of-N][.plan].report.ndjson
// (an input that is a report loses its whole .report.ndjson suffix)
// in the current directory (an input may be read-only or in S3). Stdin is
// named by the action alone.
func DefaultReportPath(input, action, shard string, dryRun bool) string {
	base := "stdin"
	if input != "-" && input != "" {
		base = filepath.Base(input)
		if i := strings.Index(base, "?"); i >= 0 {
			base = base[:i]
		}
		if b, ok := strings.CutSuffix(base, ReportSuffix); ok {
			// A report as input (rollback's --from-report): x.disable
			// rather than x.disable.report.
			base = b
		} else {
			base = strings.TrimSuffix(base, filepath.Ext(base))
		}
	}
	name := base + "." + action
	if shard != "" {
		name += "." + shard
	}
	if dryRun {
		name += ".plan"
	}
	return name + ReportSuffix
}

// withTag inserts tag (a shard, "plan") into an explicit path before its
// report suffix or extension: a dry run and each shard get their own files.
func withTag(path, tag string) string {
	if tag == "" {
		return path
	}
	if strings.HasSuffix(path, ReportSuffix) {
		return strings.TrimSuffix(path, ReportSuffix) + "." + tag + ReportSuffix
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + tag + ext
}

// CheckpointPathFor puts the checkpoint beside the report (where cogsweep
// report also finds the timeline).
func CheckpointPathFor(report string) string {
	if strings.HasSuffix(report, ReportSuffix) {
		return strings.TrimSuffix(report, ReportSuffix) + ".checkpoint"
	}
	return report + ".checkpoint"
}
