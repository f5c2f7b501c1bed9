package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func (b *bench) memory(ctx context.Context) error {
	sizes := []int{1_000_000, 10_000_000}
	if b.quick {
		sizes = []int{100_000, 1_000_000}
	}
	const limitKiB = 64 * 1024
	var rss []int64
	var secs []float64
	for _, n := range sizes {
		dir := filepath.Join(b.dir, fmt.Sprintf("row4-%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		in := filepath.Join(dir, "big.csv")
		if err := generate(in, n); err != nil {
			return err
		}
		pool := "us-east-1_BENCHMEM01"
		args := append([]string{"-n", "19", b.nop}, cogsweepDelete(pool, in, "", "--rate", "1000000000", "--progress", "off")...)
		p, err := runProc(ctx, dir, "nice", args, nil) // nice execs the binary: the rusage is its own
		if err != nil {
			return err
		}
		rss = append(rss, p.maxRSS)
		secs = append(secs, p.wall.Seconds())
		var sum struct {
			Counts map[string]int `json:"counts"`
		}
		if raw, err := os.ReadFile(filepath.Join(dir, "summary.json")); err == nil {
			_ = json.Unmarshal(raw, &sum)
		}
		if sum.Counts["deleted"]+sum.Counts["duplicate"] != n {
			return fmt.Errorf("row 4: %d rows: summary counts %v", n, sum.Counts)
		}
		os.RemoveAll(dir) // gigabytes
	}
	for i, n := range sizes {
		b.add(row{n: "4", what: fmt.Sprintf("memory: %s rows (1 in 1,000 a duplicate), real reader, duplicate detection, limiter, report, checkpoint, no-op backend: peak RSS", grouped(n)),
			value: fmt.Sprintf("%.1f MiB (run %.0f s)", float64(rss[i])/1024, secs[i]), ratio: fmt.Sprintf("%.2f of 64 MiB", float64(rss[i])/limitKiB),
			goal: "<= 64 MiB", pass: mark(rss[i] <= limitKiB)})
	}
	growth := float64(rss[1]) / float64(rss[0])
	b.add(row{n: "4", what: fmt.Sprintf("memory: peak RSS at %s rows / at %s rows", grouped(sizes[1]), grouped(sizes[0])),
		value: "10x the rows", ratio: fmt.Sprintf("%.2f", growth), goal: "flat (<= 1.25)", pass: mark(growth <= 1.25)})
	return nil
}

// generate writes n rows; every 1,000th repeats the username 500 rows back,
// so duplicate detection has work.
func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("username,email\n")
	for i := 1; i <= n; i++ {
		j := i
		if i%1000 == 0 {
			j = i - 500
		}
		fmt.Fprintf(w, "user-%08d,user-%08d@example.com\n", j, j)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
