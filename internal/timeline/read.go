package timeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Run is one run's part of a timeline: a first start or a resume.
type Run struct {
	N          int
	At         time.Time
	Resume     bool
	Categories []string
	Samples    []Sample
	// End is the status the run ended with ("" when it was killed), at
	// EndAt.
	End   string
	EndAt time.Time
}

// Timeline is a timeline file read back.
type Timeline struct {
	Path string
	Runs []Run
	// Skipped counts lines that could not be read (a torn last line, a
	// line from another tool): the picture goes on without them.
	Skipped int
}

// Read reads the timeline at path. A 12-hour run's timeline is a few MB,
// and its samples (43,200) are held in memory as about 5 MB of structs.
func Read(path string) (*Timeline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	defer f.Close()
	tl := &Timeline{Path: path}
	lr := fsutil.NewLineReader(f, 0)
	first := true
	for {
		line, _, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read timeline %s: %w", path, err)
		}
		if first {
			if !isHeader(line) {
				return nil, fmt.Errorf("read timeline %s: %w", path, ErrNotTimeline)
			}
			first = false
			continue
		}
		if !complete || !tl.add(line) {
			tl.Skipped++
		}
	}
	if first {
		return nil, fmt.Errorf("read timeline %s: %w", path, ErrNotTimeline)
	}
	return tl, nil
}

func (tl *Timeline) add(line []byte) bool {
	switch {
	case bytes.HasPrefix(line, []byte("[")):
		if len(tl.Runs) == 0 {
			return false
		}
		r := &tl.Runs[len(tl.Runs)-1]
		s, ok := parseSample(line, len(r.Categories))
		if ok {
			r.Samples = append(r.Samples, s)
		}
		return ok
	case bytes.HasPrefix(line, []byte(`{"run":`)):
		var rl runLine
		if json.Unmarshal(line, &rl) != nil {
			return false
		}
		tl.Runs = append(tl.Runs, Run{N: rl.Run, At: rl.At, Resume: rl.Resume, Categories: rl.Categories})
		return true
	case bytes.HasPrefix(line, []byte(`{"end":`)):
		var el endLine
		if json.Unmarshal(line, &el) != nil || len(tl.Runs) == 0 {
			return false
		}
		r := &tl.Runs[len(tl.Runs)-1]
		r.End, r.EndAt = el.End, el.At
		return true
	}
	return false
}

func parseSample(line []byte, cats int) (Sample, bool) {
	var v []float64
	if json.Unmarshal(line, &v) != nil || len(v) != 5+5*cats {
		return Sample{}, false
	}
	s := Sample{T: int64(v[0]), InFlight: int(v[1]), Latency: [3]float64{v[2], v[3], v[4]}, Cats: make([]Counts, cats)}
	for i := range s.Cats {
		c := v[5+5*i:]
		s.Cats[i] = Counts{Sent: int(c[0]), OK: int(c[1]), Throttled: int(c[2]), Failed: int(c[3]), Rate: c[4]}
	}
	return s, true
}
