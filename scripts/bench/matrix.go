package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/pace"
	"github.com/cogsweep/cogsweep/internal/pace/sim"
)

// ---- row 2: the live scenario matrix, against the peer and the oracle ----

// liveCell is one cell of row 2 and the reason it is in the sample.
type liveCell struct {
	sim.Cell
	why string
}

// liveMatrix is row 2's sample of sim.Matrix(): every depth but 1 three
// times, every pattern, every schedule at least once, both latencies. All
// cells are 40 s long: the 10-minute ones would not fit `make bench`'s 10
// minutes. Depth 1 is left out: there even the oracle's best fixed rates
// have 14-60% of the job's calls throttled and need 10 to 20x the ideal
// (most do not finish within 20x), so a live cell would run for many
// minutes and say nothing the simulator does not. Bursty production at depth 5 is left out for the same
// reason (the oracle needs 6 to 20x the ideal: 3x bursts of 10-20/s
// overflow a bucket of 5).
func liveMatrix() []liveCell {
	cell := func(depth float64, p sim.Pattern, s sim.Schedule, lat time.Duration, why string) liveCell {
		return liveCell{Cell: sim.Cell{Depth: depth, Pattern: p, Schedule: s, Length: 40 * time.Second, Latency: lat}, why: why}
	}
	const ms = time.Millisecond
	return []liveCell{
		cell(5, sim.Even, sim.Spike, 30*ms, "issue 15's first scenario: a shallow bucket, production steady, then spiking, then falling"),
		cell(5, sim.Even, sim.StepUp, 30*ms, "a shallow bucket and a share that halves (20/s to 10/s)"),
		cell(5, sim.Poisson, sim.StepDown, 30*ms, "issue 15's second scenario: production at random, falling mid-run; the bucket is too shallow for Poisson bursts, so the oracle bounds the goal"),
		cell(25, sim.Even, sim.StepUp, 30*ms, "what --rate auto was tuned on before issue 15 (the bucket one second of quota deep, even production rising 5 to 15/s)"),
		cell(25, sim.Poisson, sim.Spike, 30*ms, "production at random into a spike of 20/s"),
		cell(25, sim.Bursty, sim.StepDown, 30*ms, "on/off bursts (45/s while on) that overflow the bucket: production alone loses calls, the oracle bounds the goal"),
		cell(50, sim.Even, sim.Ramp, 30*ms, "a deep bucket that hides the share for seconds, production ramping slowly 5 to 15/s"),
		cell(50, sim.Poisson, sim.Steady, 150*ms, "the long latency: answers, and so throttles, arrive late"),
		cell(50, sim.Bursty, sim.Steady, 30*ms, "bursts a deep bucket can absorb: the standard goal holds"),
	}
}

// liveParallel is how many cells run at a time: each runs two jobs, so
// this is the six jobs the former row 2 ran side by side.
const liveParallel = 3

// oracleSeeds is how many seeds the oracle plays each cell with.
const oracleSeeds = 8

// steps is the simulator's schedule as the fake's production steps.
func steps(ps []sim.Phase) []fakecognito.Step {
	out := make([]fakecognito.Step, len(ps))
	var after time.Duration
	for i, p := range ps {
		out[i] = fakecognito.Step{After: after, Rate: p.Prod}
		after = p.Until
	}
	return out
}

func fakePattern(p sim.Pattern) fakecognito.Pattern {
	switch p {
	case sim.Poisson:
		return fakecognito.Poisson
	case sim.Bursty:
		return fakecognito.Bursty
	}
	return fakecognito.Even
}

// contender is one job of one cell.
type contender struct {
	name               string
	wall               time.Duration
	done               bool // every user deleted before the deadline
	left               int  // users left when the deadline killed it
	calls, throttled   int
	prodOK, prodFailed int
	timeline           []string
	rates              []float64 // calls per second, for the charts (charts.go)
}

// result is the job as the simulator would have reported it, so that the
// simulator's judge can rule on it.
func (c contender) result(ideal time.Duration) sim.Result {
	return sim.Result{Finish: c.wall, Ideal: ideal, JobCalls: c.calls, JobThrottled: c.throttled,
		ProdCalls: c.prodOK + c.prodFailed, ProdFailed: c.prodFailed, Done: c.done}
}

func (c contender) served() float64 {
	return float64(c.prodOK) / float64(max(c.prodOK+c.prodFailed, 1))
}

func (c contender) throttleFr() float64 { return float64(c.throttled) / float64(max(c.calls, 1)) }

// liveResult is one cell of row 2, measured and judged.
type liveResult struct {
	cell     liveCell
	sc       sim.Scenario // seed 1: the rows, the phases, the ideal
	cs, peer contender
	oracle   sim.Summary
	goal     sim.Goal
	miss     string // "" when cogsweep met every goal
	cellN    int    // the cell's number in liveMatrix
}

func (r liveResult) ideal() time.Duration { return r.sc.Ideal() }

// deadline ends a job that has not finished by then: 2.5 times the time
// the oracle needs (at least the cell's length). It keeps a controller that
// stalls from holding `make bench` past its 10 minutes: at worst the nine
// cells take about 5.5 minutes, three at a time.
func (r liveResult) deadline() time.Duration {
	return time.Duration(2.5 * max(1, r.oracle.TimeRatio) * float64(r.cell.Length))
}

func (b *bench) hiddenQuota(ctx context.Context) error {
	cells, ns := pickCell(liveMatrix(), b.cell)
	if b.quick {
		cells = cells[:min(liveParallel, len(cells))]
	}
	// The oracle first: it is the simulator's and takes well under a
	// second, and it sets each job's deadline.
	oracle := sim.NewOracle()
	results := make([]liveResult, len(cells))
	for i, c := range cells {
		r := liveResult{cell: c, sc: c.Scenario(1, pace.DefaultSpread), cellN: ns[i]}
		for seed := uint64(1); seed <= oracleSeeds; seed++ {
			res, _ := oracle.Run(c.Scenario(seed, pace.DefaultSpread))
			r.oracle.Add(res)
		}
		r.goal = sim.GoalFor(r.oracle)
		results[i] = r
	}
	// The longest cells first, so that the last round is not one long cell
	// alone.
	order := make([]int, len(cells))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return results[order[i]].deadline() > results[order[j]].deadline() })

	work := make(chan int)
	errs := make([]error, len(cells))
	var wg sync.WaitGroup
	for range liveParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs[i] = b.liveCell(ctx, i+1, &results[i])
			}
		}()
	}
	for _, i := range order {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if b.verbose {
		for _, r := range results {
			for _, c := range []contender{r.cs, r.peer} {
				fmt.Fprintf(os.Stderr, "timeline %s (per second: done, job throttled, production failed):\n  %s\n", c.name, strings.Join(c.timeline, "\n  "))
			}
		}
	}
	b.judgeLive(results)
	return b.writeCharts(results)
}

// liveCell runs cogsweep and the peer side by side, each on its own fake
// of the cell's configuration, and judges cogsweep.
func (b *bench) liveCell(ctx context.Context, n int, r *liveResult) error {
	var wg sync.WaitGroup
	var csErr, peerErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.cs, csErr = b.liveJob(ctx, fmt.Sprintf("cell%d-cogsweep", n), n, r, func(f *served, csv, _ string) (string, []string) {
			return b.cogsweep, cogsweepDelete(f.pool, csv, f.url, "--rate", "auto")
		})
	}()
	go func() {
		defer wg.Done()
		r.peer, peerErr = b.liveJob(ctx, fmt.Sprintf("cell%d-peer", n), n, r, func(f *served, _, list string) (string, []string) {
			return b.peer, []string{"-mode", "adaptive", "-workers", fmt.Sprint(b.peerWorkers), "-endpoint", f.url, "-pool", f.pool, "-users", list}
		})
	}()
	wg.Wait()
	if err := errors.Join(csErr, peerErr); err != nil {
		return fmt.Errorf("cell %d (%v): %w", n, r.cell.Cell, err)
	}
	var s sim.Summary
	s.Add(r.cs.result(r.ideal()))
	r.miss = r.goal.Misses(s)
	// Only a peer that leaves production its share is a time to beat: one
	// that takes production's tokens can finish sooner than any job that
	// does not.
	if r.peer.done && r.peer.served() >= sim.MinProdServed && r.cs.wall > r.peer.wall {
		r.miss += fmt.Sprintf(" slower than the peer (%.1f s > %.1f s), which left production >= %.2f;",
			r.cs.wall.Seconds(), r.peer.wall.Seconds(), sim.MinProdServed)
	}
	fmt.Fprintf(os.Stderr, "bench: row 2 cell %d (%v): cogsweep %.3f, peer %.3f of the ideal\n",
		n, r.cell.Cell, r.cs.wall.Seconds()/r.ideal().Seconds(), r.peer.wall.Seconds()/r.ideal().Seconds())
	return nil
}

// liveJob runs one job against a fresh fake of the cell's configuration:
// the cell's bucket depth and latency, the cell's production (same seed for
// both jobs of a cell: they face the same calls) from the moment the
// process starts until it exits.
func (b *bench) liveJob(ctx context.Context, name string, n int, r *liveResult, argv func(f *served, csv, list string) (string, []string)) (contender, error) {
	users := names("user", r.sc.Rows)
	f, err := serveFake(fakecognito.Options{
		// The simulator's network: each way half the latency plus up to a
		// fifth of it; the fake puts it all before the call.
		Latency: r.cell.Latency, LatencyJitter: 2 * r.sc.Jitter, Seed: int64(n),
		UserUpdate: fakecognito.Quota{Rate: r.sc.Quota, Burst: int(r.cell.Depth)},
	}, fmt.Sprintf("us-east-1_BENCHCELL%d", n), users)
	if err != nil {
		return contender{}, err
	}
	defer f.Close()
	dir := filepath.Join(b.dir, "row2-"+name)
	csv, list, err := writeInputs(dir, users)
	if err != nil {
		return contender{}, err
	}
	bin, args := argv(f, csv, list)
	jobCtx, cancel := context.WithTimeout(ctx, r.deadline())
	defer cancel()
	prodCtx, stopProd := context.WithCancel(ctx)
	defer stopProd()
	var timeline []string
	var rates []float64
	prodDone, tlDone, ratesDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	started := false
	p, err := runProc(jobCtx, dir, bin, args, func() {
		started = true
		go func() {
			defer close(prodDone)
			<-f.StartProductionWith(prodCtx, fakecognito.Production{
				Schedule: steps(r.sc.Phases), Pattern: fakePattern(r.cell.Pattern), Seed: uint64(n)})
		}()
		go func() {
			defer close(tlDone)
			if b.verbose {
				timeline = sample(prodCtx, f)
			}
		}()
		go func() { defer close(ratesDone); rates = sampleRates(prodCtx, f) }()
	})
	stopProd()
	if started {
		<-prodDone
		<-tlDone
		<-ratesDone
	}
	c := contender{name: name, wall: p.wall, done: true,
		calls: f.Calls("AdminDeleteUser"), throttled: f.Throttled(),
		prodOK: f.ProductionServed(), prodFailed: f.ProductionThrottled(), timeline: timeline, rates: rates}
	if err != nil {
		if jobCtx.Err() == nil || ctx.Err() != nil {
			return contender{}, err
		}
		c.done, c.left = false, f.UserCount(f.pool)
		return c, nil
	}
	if left := f.UserCount(f.pool); left != 0 {
		return contender{}, fmt.Errorf("%s: %d users left in the fake", name, left)
	}
	return c, nil
}

// judgeLive adds row 2's summary lines and keeps the matrix's table.
func (b *bench) judgeLive(results []liveResult) {
	passed, mean, meanN := 0, 0.0, 0
	for _, r := range results {
		if r.miss == "" {
			passed++
		}
		if !r.goal.OracleBound {
			mean += r.cs.wall.Seconds() / r.ideal().Seconds()
			meanN++
		}
	}
	if meanN > 0 {
		mean /= float64(meanN)
	}
	what := fmt.Sprintf("live scenario matrix (%d cells of sim.Matrix, 25/s quota, table below): cogsweep `--rate auto` beside the peer and the hindsight oracle; cells passed / cells", len(results))
	b.add(
		row{n: "2", what: what, value: fmt.Sprintf("%d of %d cells meet their goal", passed, len(results)),
			ratio: fmt.Sprintf("%d/%d", passed, len(results)), goal: "every cell", pass: mark(passed == len(results))},
		row{n: "2", what: "live matrix: cogsweep time / ideal, mean over the cells the oracle does not bound",
			value: fmt.Sprintf("%d cells", meanN), ratio: fmt.Sprintf("%.3f", mean),
			goal: fmt.Sprintf("<= %.2f", sim.MaxMeanTimeRatio), pass: mark(meanN > 0 && mean <= sim.MaxMeanTimeRatio)},
	)
	b.mu.Lock()
	b.matrix, b.cells = liveTable(results), results
	b.mu.Unlock()
}

// liveTable is the matrix as a markdown table, one line a cell.
func liveTable(results []liveResult) string {
	var s strings.Builder
	s.WriteString("| # | cell: depth, production, schedule, length, latency | rows, ideal | cogsweep time / ideal | production served | job throttled | peer time / ideal | production served | job throttled | oracle time / ideal | production served | goal: time, production, throttled | verdict |\n")
	s.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, r := range results {
		ideal := r.ideal()
		timeRatio := func(c contender) string {
			t := fmt.Sprintf("%.3f", c.wall.Seconds()/ideal.Seconds())
			if !c.done {
				t = fmt.Sprintf("> %s (stopped at %.0f s, %d rows left)", t, c.wall.Seconds(), c.left)
			}
			return t
		}
		goal := fmt.Sprintf("<= %.3f, >= %.3f, <= %s", r.goal.MaxTimeRatio, r.goal.MinProdServed, pct(r.goal.MaxJobThrottled))
		if r.goal.OracleBound {
			goal += " (oracle-bound)"
		}
		if r.peer.done && r.peer.served() >= sim.MinProdServed {
			goal += "; <= peer's time"
		}
		verdict := "PASS"
		if r.miss != "" {
			verdict = "FAIL:" + strings.TrimSuffix(r.miss, ";")
		}
		fmt.Fprintf(&s, "| %d | %v | %d, %.0f s | %s | %.3f | %s | %s | %.3f | %s | %.3f | %.3f | %s | %s |\n",
			i+1, r.cell.Cell, r.sc.Rows, ideal.Seconds(),
			timeRatio(r.cs), r.cs.served(), pct(r.cs.throttleFr()),
			timeRatio(r.peer), r.peer.served(), pct(r.peer.throttleFr()),
			r.oracle.TimeRatio, r.oracle.ProdServed(), goal, verdict)
	}
	return s.String()
}

// liveWhy lists the cells and why each is in the sample, for the markdown.
func liveWhy(results []liveResult) string {
	var s strings.Builder
	for i, r := range results {
		fmt.Fprintf(&s, "%d. %v: %s.\n", i+1, r.cell.Cell, r.cell.why)
	}
	return s.String()
}

// matrixText explains row 2's table in docs/benchmarks.md; the list of
// cells and why each is there follows it.
const matrixText = `Each line is one cell of the simulator's scenario matrix (internal/pace/sim.Matrix, judged in the simulator
by ` + "`go test ./internal/pace -run TestAuto_Matrix`" + `), played live: the same bucket, production and schedule, here on
the wire against bin/cogsweep and the peer. Per cell:

- **The fakes.** Two in-process fakes of the same configuration, one for cogsweep, one for the peer, started
  together: a UserUpdate bucket of 25/s, as deep as the cell's depth (it starts full); the cell's latency added to
  every call plus up to 2/5 of it at random (the simulator's network: each way half the latency plus up to a
  fifth); the cell's production (fakecognito's StartProductionWith) taking UserUpdate tokens without HTTP from the
  moment the job's process starts until it exits, on the cell's schedule (sim's Schedule.Phases at 25/s: steady
  10/s; step-up 5 then 15/s from half-way; step-down 15 then 5/s; spike 5/s, 20/s from 30% to 50% of the run, 5/s;
  ramp 5 to 15/s in ten steps) and pattern (even: exactly spaced; poisson: exponential gaps; bursty: 3x the mean
  rate at random for 2 s of every 6 s, nothing in between). Both fakes of a cell draw the same production calls
  (same seed). A production call that finds the bucket empty fails.
- **rows, ideal.** The rows are sized as sim.Cell.Scenario sizes them: a job taking exactly the free share (25/s
  minus production's mean rate) at every moment finishes at the cell's length, the ideal.
- **time / ideal** is the process's wall time (start to exit) over the ideal; it can be below 1 because the bucket
  starts full (50 tokens at depth 50 are 2-5 s of the free share). **production served** is the share of
  production's calls during the job that found a token; **job throttled** the share of the job's AdminDeleteUser
  calls that were refused (the fake's counters).
- **cogsweep** runs ` + "`--rate auto`" + ` (told neither the quota, the depth, the pattern nor the schedule; --max-rate at
  its default 25). **peer** is scripts/bench/peer with the SDK's adaptive retry mode and 4 goroutines (below).
- **oracle** is the simulator's hindsight oracle (sim.NewOracle): the highest fixed rate for each phase of the
  schedule that keeps production served at 0.98, found by search with the depth, pattern and schedule known,
  played on the cell's scenario in the simulator over 8 seeds (mean time / ideal, production served over all of
  them). It says how far cogsweep is from what was achievable, not only from the ideal.
- **goal** is sim.GoalFor's: time / ideal <= 1.10, production served >= 0.98, job throttled <= 2%, and, where the
  peer leaves production at least 0.98, cogsweep's time no more than the peer's. Where the oracle itself misses
  the first three (*oracle-bound*: production alone loses calls in the bucket, or no fixed rate keeps production
  and finishes within 1.10), the goal is the oracle's time + 5% at the oracle's production served. The summary
  row counts the cells that meet their goal; the mean time / ideal is over the cells the oracle does not bound
  (goal <= 1.05).
- **Deadline.** A job still running at 2.5x the oracle's time (at least 2.5x the ideal) is stopped and counts as
  unfinished; the table says how many rows it left. It keeps a controller that stalls from holding ` + "`make bench`" + `
  past its 10 minutes.

Three cells run at a time (six jobs, longest first), alongside rows 1 and 4. The cells, and why they are the ones:
every depth of the matrix but 1, three times each; every pattern; every schedule at least once; both latencies;
all 40 s long (the 10-minute cells would not fit in ` + "`make bench`" + `'s 10 minutes; the simulator plays them). Depth 1
is left out because even the oracle's best fixed rates have 14-60% of the job's calls throttled there and need 10
to 20x the ideal (most do not finish within 20x), so a live cell would run for many minutes and say nothing the
simulator does not; bursty production into a bucket of 5 for the same reason (the oracle needs 6 to 20x the ideal:
bursts of 3x 10-20/s overflow it).
`
