package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/chart"
)

// Row 2's charts: per live cell, cogsweep's and the peer's AdminDeleteUser
// calls per second (each on its own fake) and the free share the cell's
// schedule leaves (the quota less production's rate), drawn with the same
// SVG code as `cogsweep report --html` (internal/chart).

// sampleRates returns the calls per second f executed, one a second, until
// ctx ends.
func sampleRates(ctx context.Context, f *served) []float64 {
	var out []float64
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := 0
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		now := f.Executed("AdminDeleteUser")
		out = append(out, float64(now-last))
		last = now
	}
}

// chartName is cell n's chart file, relative to the markdown.
func chartName(n int) string { return fmt.Sprintf("bench/row2-cell%d.svg", n) }

// chartsDir is where the charts go: -charts, else bench/ beside -out; ""
// when neither is set.
func (b *bench) chartsDir() string {
	if b.charts != "" {
		return b.charts
	}
	if b.out == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(b.out), "bench")
}

// writeCharts draws one SVG per cell.
func (b *bench) writeCharts(results []liveResult) error {
	dir := b.chartsDir()
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	for i, r := range results {
		n := r.cellN
		if n == 0 {
			n = i + 1
		}
		c := cellChart(r)
		c.Title = fmt.Sprintf("Row 2, cell %d: %v", n, r.cell.Cell)
		path := filepath.Join(dir, filepath.Base(chartName(n)))
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("charts: %w", err)
		}
		err = c.Render(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		fmt.Fprintf(os.Stderr, "bench: chart %s\n", path)
	}
	return nil
}

// cellChart is a cell's three series over the longer job's seconds.
func cellChart(r liveResult) chart.Line {
	secs := max(len(r.cs.rates), len(r.peer.rates))
	xs := make([]float64, secs)
	free := make([]float64, secs)
	for i := range secs {
		xs[i] = float64(i + 1)
		free[i] = r.sc.Quota - prodAt(r, time.Duration(i)*time.Second+time.Second/2)
	}
	return chart.Line{
		YLabel: "calls/s", Width: 760, Height: 260, X: xs,
		XLabel: func(x float64) string { return fmt.Sprintf("%.0f s", x) },
		Series: []chart.Series{
			{Name: "cogsweep --rate auto", Values: padNaN(r.cs.rates, secs)},
			{Name: "peer (SDK adaptive)", Values: padNaN(r.peer.rates, secs)},
			{Name: "free share (quota - production)", Values: free, Dashed: true, Color: "#444444"},
		},
	}
}

// prodAt is production's scheduled rate at t.
func prodAt(r liveResult, t time.Duration) float64 {
	for _, p := range r.sc.Phases {
		if p.Until == 0 || t < p.Until {
			return p.Prod
		}
	}
	if n := len(r.sc.Phases); n > 0 {
		return r.sc.Phases[n-1].Prod
	}
	return 0
}

func padNaN(v []float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
		if i < len(v) {
			out[i] = v[i]
		}
	}
	return out
}

// chartLinks is the markdown under row 2's table: one image per cell.
func chartLinks(results []liveResult) string {
	var s strings.Builder
	s.WriteString("\nPer cell, cogsweep's calls per second, the peer's, and the free share the schedule leaves (`make bench` draws\nthem with internal/chart, the code of `cogsweep report --html`):\n\n")
	for i, r := range results {
		n := r.cellN
		if n == 0 {
			n = i + 1
		}
		fmt.Fprintf(&s, "![row 2, cell %d: %v](%s)\n", n, r.cell.Cell, chartName(n))
	}
	return s.String()
}

// pickCell keeps only cell n (1-based) of row 2 when n > 0: one chart
// without the whole matrix.
func pickCell(cells []liveCell, n int) ([]liveCell, []int) {
	if n <= 0 || n > len(cells) {
		ns := make([]int, len(cells))
		for i := range ns {
			ns[i] = i + 1
		}
		return cells, ns
	}
	return cells[n-1 : n], []int{n}
}
