package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func (b *bench) knownQuota(ctx context.Context) error {
	const quota = 25.0
	n := 3000
	if b.quick {
		n = 300
	}
	users := names("known", n)
	f, err := serveFake(fakecognito.Options{Latency: 50 * time.Millisecond, UserUpdate: fakecognito.Quota{Rate: quota, Burst: 25}},
		"us-east-1_BENCHKNOWN", users)
	if err != nil {
		return err
	}
	defer f.Close()
	dir := filepath.Join(b.dir, "row1")
	csv, _, err := writeInputs(dir, users)
	if err != nil {
		return err
	}
	p, err := runProc(ctx, dir, b.cogsweep, cogsweepDelete(f.pool, csv, f.url, "--rate", "25"), nil)
	if err != nil {
		return err
	}
	if left := f.UserCount(f.pool); left != 0 {
		return fmt.Errorf("row 1: %d users left in the fake", left)
	}
	achieved := float64(n) / p.wall.Seconds()
	calls, thr := f.Calls("AdminDeleteUser"), f.Throttled()
	b.add(
		row{n: "1", what: fmt.Sprintf("known quota 25/s (burst 25, 50 ms latency), %d deletes, `--rate 25`: achieved rate / quota", n),
			value: fmt.Sprintf("%.2f rows/s (%d rows in %.1f s, process start to exit)", achieved, n, p.wall.Seconds()),
			ratio: fmt.Sprintf("%.3f", achieved/quota), goal: ">= 0.98", pass: mark(achieved/quota >= 0.98)},
		row{n: "1", what: "known quota: throttled calls / calls",
			value: fmt.Sprintf("%d / %d", thr, calls), ratio: pct(float64(thr) / float64(calls)), goal: "<= 0.5%",
			pass: mark(float64(thr)/float64(calls) <= 0.005)},
	)
	return nil
}

// sample records, every second, what the fake saw (for -v).
func sample(ctx context.Context, f *served) []string {
	var out []string
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last [3]int
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		now := [3]int{f.Executed("AdminDeleteUser"), f.Throttled(), f.ProductionThrottled()}
		out = append(out, fmt.Sprintf("%3ds %4d %3d %3d", i, now[0]-last[0], now[1]-last[1], now[2]-last[2]))
		last = now
	}
}
