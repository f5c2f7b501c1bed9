package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reportpage"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// A run's files read back, for `cogsweep status` and `cogsweep report`:
// the command line asks, this file reads.

// Status is what a run's checkpoint and report say of it.
type Status struct {
	Checkpoint checkpoint.StatusInfo
	// Counts and Done are the report's outcomes and lines; Header its
	// header. All zero when there is no report yet.
	Counts map[report.Outcome]int
	Done   int
	Header *report.Header
}

// ReadStatus reads the checkpoint at cp and the report at rp without
// taking the lock or changing anything. A missing or unreadable checkpoint
// is a UsageError; a missing report is no error (the run wrote none yet).
func ReadStatus(cp, rp string) (Status, error) {
	st, err := checkpoint.Status(cp)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Status{}, usage(fmt.Errorf("no checkpoint at %s", cp))
		}
		return Status{}, usage(err)
	}
	s := Status{Checkpoint: st}
	counts, done, err := report.Count(rp)
	if err == nil {
		s.Counts, s.Done = counts, done
		if h, err := report.ReadHeader(rp); err == nil {
			s.Header = &h
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Status{}, fmt.Errorf("read report: %w", err)
	}
	return s, nil
}

// ReportPathFor inverts CheckpointPathFor.
func ReportPathFor(cp string) string {
	if strings.HasSuffix(cp, ".checkpoint") {
		base := strings.TrimSuffix(cp, ".checkpoint")
		if strings.HasSuffix(base, ".report.ndjson") || strings.HasSuffix(base, ".ndjson") {
			return base
		}
		return base + ReportSuffix
	}
	return cp + ReportSuffix
}

// PageOptions say which report LoadPage reads and how much of it.
type PageOptions struct {
	Report string
	// Timelines default to the one beside the report's checkpoint, or for
	// a merged report each shard's.
	Timelines []string
	MaxRows   int
}

// LoadPage reads a report, its run's timelines and how its run last
// ended, for reportpage to render. A file that is not a report is a
// UsageError.
func LoadPage(o PageOptions) (*reportpage.Data, error) {
	h, err := report.ReadHeader(o.Report)
	if err != nil {
		return nil, usage(err)
	}
	tls := o.Timelines
	if len(tls) == 0 {
		tls = timelinesFor(o.Report, h)
	}
	return reportpage.Load(reportpage.Options{Report: o.Report, Timelines: tls, Status: runStatusOf(o.Report, h), MaxRows: o.MaxRows})
}

// WritePage writes the page through a temporary file and a rename: the
// page names users like the report, so it is 0600 and never a symlink.
func WritePage(path string, d *reportpage.Data) error {
	if err := fsutil.RefuseSymlink("page", path); err != nil {
		return usage(err)
	}
	tmp := path + ".tmp"
	f, err := fsutil.OpenPrivate("page", tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return UsageIfSymlink(fmt.Errorf("write page: %w", err))
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
					out = append(out, timeline.PathFor(CheckpointPathFor(p)))
				}
			}
		}
		return out
	}
	return []string{timeline.PathFor(CheckpointPathFor(path))}
}

// runStatusOf is how the run of the report last ended, from its checkpoint
// ("" when there is none beside it: the timeline tells then).
func runStatusOf(path string, h report.Header) string {
	if _, ok := h.Audit["merged_from"]; ok {
		return ""
	}
	st, err := checkpoint.Status(CheckpointPathFor(path))
	if err != nil {
		return "" // none, or unreadable: the timeline tells
	}
	return st.RunState()
}
