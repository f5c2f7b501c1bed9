// Command bench runs the side-by-side benchmark of `make bench` (issues 4
// and 9) and prints one table, every figure measured in the same run on
// this machine, each with its ratio, its goal and a pass/fail mark. It also
// writes the table, with the command that produced it, to docs/benchmarks.md.
//
// Rows 1, 2, 6 and 7 are bound by a quota's clock, not by the CPU: they
// run at the same time, every job against its own in-process fake Cognito
// (own bucket and own production traffic). Row 2 is a live sample of the
// simulator's scenario matrix (matrix.go); rows 6 and 7 an account known
// from Service Quotas and CloudWatch (account.go). Rows 3 to 5 are bound
// by the CPU and run one after the other, alone (row 4 at nice 19 beside
// the quota-bound ones).
//
// It is a benchmark tool under scripts/, never shipped; see scripts/bench.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is the command's flags.
type config struct {
	cogsweep, peer, nop string // binaries
	goBench             string // output of go test -bench, to include
	out                 string // markdown file to write ("" : none)
	command             string // the command recorded in the markdown
	quick               bool   // smaller sizes, to try the script
	only                string // comma-separated rows to run (default all)
	peerWorkers         int
	verbose             bool
	keep                bool   // keep the work directory
	charts              string // row 2's charts go here (default: bench/ beside out; charts.go)
	cell                int    // run only this cell of row 2 (0: all)
}

func main() {
	var c config
	flag.StringVar(&c.cogsweep, "cogsweep", "bin/cogsweep", "cogsweep binary")
	flag.StringVar(&c.peer, "peer", "bin/bench/peer", "peer binary (scripts/bench/peer)")
	flag.StringVar(&c.nop, "nop", "bin/bench/nopcogsweep", "cogsweep with a no-op backend (scripts/bench/nopcogsweep)")
	flag.StringVar(&c.goBench, "gobench", "", "file holding `go test -bench -benchmem` output to include")
	flag.StringVar(&c.out, "out", "docs/benchmarks.md", "write the table here (empty: do not)")
	flag.StringVar(&c.command, "command", "make bench", "the command recorded with the table")
	flag.BoolVar(&c.quick, "quick", false, "smaller sizes (a trial of the script, not figures)")
	flag.StringVar(&c.only, "only", "", "rows to run, e.g. 1,2 (default: all)")
	flag.IntVar(&c.peerWorkers, "peer-workers", 4, "goroutines of the adaptive-mode peer")
	flag.BoolVar(&c.verbose, "v", false, "print a timeline of the quota-bound jobs")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.StringVar(&c.charts, "charts", "", "write row 2's SVG charts here (default: bench/ beside -out)")
	flag.IntVar(&c.cell, "cell", 0, "run only this cell of row 2, e.g. to draw its chart (with -only 2 -out '' -charts DIR)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// row is one line of the table.
type row struct {
	n     string // row number
	what  string
	value string // the measured figures
	ratio string
	goal  string
	pass  *bool // nil: information only
}

func mark(ok bool) *bool { return &ok }

func (r row) result() string {
	switch {
	case r.pass == nil:
		return "info"
	case *r.pass:
		return "PASS"
	}
	return "FAIL"
}

// bench holds the run's settings and results.
type bench struct {
	config
	dir     string
	rows    []row
	mu      sync.Mutex
	started time.Time
	timings []string
	matrix  string       // row 2's table
	cells   []liveResult // row 2's cells
}

func (b *bench) add(rs ...row) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rows = append(b.rows, rs...)
}

func (b *bench) want(n string) bool {
	if b.only == "" {
		return true
	}
	for _, s := range strings.Split(b.only, ",") {
		if strings.TrimSpace(s) == n {
			return true
		}
	}
	return false
}

func run(ctx context.Context, c config) error {
	for _, bin := range []string{c.cogsweep, c.peer, c.nop} {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("binary %s: %w (run scripts/bench.sh)", bin, err)
		}
	}
	c.cogsweep, _ = filepath.Abs(c.cogsweep)
	c.peer, _ = filepath.Abs(c.peer)
	c.nop, _ = filepath.Abs(c.nop)
	dir, err := os.MkdirTemp("", "cogsweep-bench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	b := &bench{config: c, dir: dir, started: time.Now()}
	fmt.Fprintf(os.Stderr, "bench: work directory %s; load average at start %s\n", dir, loadAvg())

	// The quota-bound jobs side by side, and the memory row at the lowest
	// CPU priority: it only measures peak RSS, which CPU time does not
	// change, and it takes the CPU the quota-bound jobs leave idle.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i, r := range []struct {
		n  string
		fn func(context.Context) error
	}{{"1", b.knownQuota}, {"2", b.hiddenQuota}, {"4", b.memory}, {"6", b.boughtQuota}, {"7", b.busyProduction}} {
		if !b.want(r.n) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.timed("row "+r.n, func() error { return r.fn(ctx) }); err != nil {
				errs[i] = fmt.Errorf("row %s: %w", r.n, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The CPU-bound timings, alone.
	steps := []struct {
		n  string
		fn func(context.Context) error
	}{{"3", b.overhead}, {"5", b.moto}}
	for _, s := range steps {
		if !b.want(s.n) {
			continue
		}
		if err := b.timed("row "+s.n, func() error { return s.fn(ctx) }); err != nil {
			return fmt.Errorf("row %s: %w", s.n, err)
		}
	}
	goBench, err := b.goBenchLines()
	if err != nil {
		return err
	}
	total := time.Since(b.started)
	table := b.table()
	fmt.Println()
	fmt.Println(table)
	if b.matrix != "" {
		fmt.Println("Row 2, the live matrix:")
		fmt.Println()
		fmt.Println(b.matrix)
	}
	if len(goBench) > 0 {
		fmt.Println("Go benchmarks (reader and report writer):")
		fmt.Println()
		fmt.Println("```")
		fmt.Println(strings.Join(goBench, "\n"))
		fmt.Println("```")
	}
	fmt.Printf("\nbench took %s (%s); load average at the end %s\n", total.Round(time.Second), strings.Join(b.timings, ", "), loadAvg())
	if c.out != "" && c.only == "" && !c.quick {
		if err := b.writeMarkdown(table, goBench, total); err != nil {
			return err
		}
		fmt.Printf("wrote %s\n", c.out)
	}
	return nil
}

func (b *bench) timed(name string, fn func() error) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "bench: %s ...\n", name)
	err := fn()
	d := time.Since(start).Round(time.Second)
	b.mu.Lock()
	b.timings = append(b.timings, fmt.Sprintf("%s %s", name, d))
	b.mu.Unlock()
	fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", name, d)
	return err
}
