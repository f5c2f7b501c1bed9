// Package reportpage turns a run's report and timeline into the summary
// `cogsweep report` prints, as text or as one self-contained HTML page.
//
// The report is streamed, never held: one bit per row for the last-wins
// pass, and at most MaxRows records of the rows that need a person.
//
// It may import report, timeline and chart; it reads the files it is named and
// writes to an io.Writer. internal/run loads and writes pages for the command
// line.
package reportpage

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// Options say what to read.
type Options struct {
	Report string
	// Timelines are the run's timeline, or each shard's for a merged
	// report; a missing one is a note on the page, not an error.
	Timelines []string
	// Status is how the last run ended, when the caller knows it (from the
	// checkpoint); else the timeline's last run tells.
	Status string
	// MaxRows caps the needs-a-person table (default 1000).
	MaxRows int
	// MaxPoints caps each chart's points (default 720).
	MaxPoints int
}

// Data is everything a page or a text summary shows.
type Data struct {
	ReportPath string
	Header     report.Header
	Counts     map[report.Outcome]int
	Have       int // rows with a line
	Status     string
	// Problems are the first MaxRows rows (in row order) that ended
	// invalid, failed or not_attempted; ProblemTotal counts them all.
	Problems     []report.Record
	ProblemTotal int
	View         *timeline.View
	Notes        []string // what could not be shown, and why
}

// More is how many problem rows the table leaves out.
func (d *Data) More() int { return d.ProblemTotal - len(d.Problems) }

// Missing is how many rows have no line (a run was killed, or a shard's
// report was not merged).
func (d *Data) Missing() int { return max(d.Header.Rows-d.Have, 0) }

// Load reads the report and the timelines.
func Load(o Options) (*Data, error) {
	if o.MaxRows <= 0 {
		o.MaxRows = 1000
	}
	if o.MaxPoints <= 0 {
		o.MaxPoints = 720
	}
	d := &Data{ReportPath: o.Report, Status: o.Status}
	keep := &rowHeap{}
	var decodeErr error
	h, res, err := report.Finals(o.Report, func(l report.Line) error {
		if !l.Outcome.Problem() {
			return nil
		}
		d.ProblemTotal++
		if keep.Len() == o.MaxRows && (*keep)[0].Row < l.Row {
			return nil
		}
		var rec report.Record
		if err := json.Unmarshal(l.Raw, &rec); err != nil {
			decodeErr = err
			rec = report.Record{Row: l.Row, Outcome: l.Outcome, Message: "(line unreadable)"}
		}
		heap.Push(keep, rec)
		if keep.Len() > o.MaxRows {
			heap.Pop(keep)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if decodeErr != nil {
		d.Notes = append(d.Notes, fmt.Sprintf("some problem lines could not be decoded: %v", decodeErr))
	}
	d.Header, d.Counts, d.Have = h, res.Counts, res.Kept
	d.Problems = []report.Record(*keep)
	sort.Slice(d.Problems, func(i, j int) bool { return d.Problems[i].Row < d.Problems[j].Row })
	d.loadTimelines(o)
	return d, nil
}

func (d *Data) loadTimelines(o Options) {
	var tls []*timeline.Timeline
	for _, p := range o.Timelines {
		tl, err := timeline.Read(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.Notes = append(d.Notes, fmt.Sprintf("no timeline at %s: its run kept none (an older cogsweep), or it was not copied beside the report (a checkpoint in S3 keeps it beside itself there)", p))
			continue
		case err != nil:
			d.Notes = append(d.Notes, err.Error())
			continue
		}
		if tl.Skipped > 0 {
			d.Notes = append(d.Notes, fmt.Sprintf("%s: %d unreadable lines skipped", p, tl.Skipped))
		}
		tls = append(tls, tl)
	}
	d.View = timeline.NewView(tls, o.MaxPoints)
	if d.Status == "" {
		d.Status = lastStatus(tls)
	}
}

// lastStatus is the end of the latest run of the timelines: "killed" when
// it has none (the process died), "unknown" without any run.
func lastStatus(tls []*timeline.Timeline) string {
	var last *timeline.Run
	for _, tl := range tls {
		for i := range tl.Runs {
			if r := &tl.Runs[i]; last == nil || r.At.After(last.At) {
				last = r
			}
		}
	}
	switch {
	case last == nil:
		return "unknown"
	case last.End == "":
		return "killed"
	}
	return last.End
}

// Elapsed is the time the timeline covers, resumes' gaps included.
func (d *Data) Elapsed() time.Duration {
	if d.View == nil || d.View.Totals.Seconds == 0 {
		return 0
	}
	return d.View.End.Sub(d.View.Start) + time.Second
}

// rowHeap is a max-heap on Row: the largest kept row leaves first, so the
// smallest MaxRows rows remain.
type rowHeap []report.Record

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h[i].Row > h[j].Row }
func (h rowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)        { *h = append(*h, x.(report.Record)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
