package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func (b *bench) overhead(ctx context.Context) error {
	const workers = 16
	n := 50000
	if b.quick {
		n = 3000
	}
	runs := 0
	measure := func(name string, argv func(f *served, csv, list string) (string, []string)) (float64, error) {
		users := names(name, n)
		f, err := serveFake(fakecognito.Options{}, "us-east-1_BENCHOVER1", users)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		runs++
		dir := filepath.Join(b.dir, fmt.Sprintf("row3-%d-%s", runs, name))
		csv, list, err := writeInputs(dir, users)
		if err != nil {
			return 0, err
		}
		bin, args := argv(f, csv, list)
		p, err := runProc(ctx, dir, bin, args, nil)
		if err != nil {
			return 0, err
		}
		if left := f.UserCount(f.pool); left != 0 {
			return 0, fmt.Errorf("%s: %d users left", name, left)
		}
		return float64(n) / p.wall.Seconds(), nil
	}
	// Bare loop and cogsweep in turn, three of each cogsweep run between
	// two bare ones: the machine is shared, so each cogsweep run is compared
	// with the mean of the bare runs on either side, and the median of the
	// three ratios is kept.
	var bare, cs []float64
	for i := range 7 {
		var r float64
		var err error
		if i%2 == 1 {
			r, err = measure("cogsweep", func(f *served, csv, _ string) (string, []string) {
				return b.cogsweep, cogsweepDelete(f.pool, csv, f.url, "--rate", "1000000", "--concurrency", fmt.Sprint(workers))
			})
			cs = append(cs, r)
		} else {
			r, err = measure("bare", func(f *served, _, list string) (string, []string) {
				return b.peer, []string{"-mode", "bare", "-workers", fmt.Sprint(workers), "-endpoint", f.url, "-pool", f.pool, "-users", list}
			})
			bare = append(bare, r)
		}
		if err != nil {
			return err
		}
	}
	ratios := make([]float64, len(cs))
	var shown []string
	for i := range cs {
		ratios[i] = cs[i] / ((bare[i] + bare[i+1]) / 2)
		shown = append(shown, fmt.Sprintf("%.0f / %.0f", cs[i], (bare[i]+bare[i+1])/2))
	}
	sorted := append([]float64(nil), ratios...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	b.add(row{n: "3", what: fmt.Sprintf("overhead: fake without quota or latency, %d deletes, %d in flight: cogsweep rows/s / bare SDK loop rows/s (median of 3 interleaved)", n, workers),
		value: strings.Join(shown, ", "), ratio: fmt.Sprintf("%.3f", med), goal: ">= 0.90", pass: mark(med >= 0.90)})
	return nil
}
