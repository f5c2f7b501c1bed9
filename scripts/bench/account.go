package main

// Rows 6 and 7 (issue 16): an account cogsweep knows from Service Quotas
// and CloudWatch, served by the fake (its applied quota, and production's
// past minutes in its usage metrics), cogsweep and the peer side by side,
// each on its own fake of the same configuration.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// accountCase is the account of one row.
type accountCase struct {
	row     string
	quota   float64       // applied, and enforced by the bucket
	depth   int           // the bucket's depth
	prod    float64       // production's calls/s: its history, and during the run
	history time.Duration // how long production has run before the job starts
	rows    int
	workers int // the peer's goroutines
}

// ideal is the time the rows take at the free share.
func (c accountCase) ideal() time.Duration {
	return time.Duration(float64(c.rows) / (c.quota - c.prod) * float64(time.Second))
}

// firstWindow is the start of a run in which production's calls are
// counted apart: a plan that starts too high harms production at once.
const firstWindow = 10 * time.Second

// accountContender is a job of rows 6 and 7, with production's calls in
// its first seconds.
type accountContender struct {
	contender
	firstOK, firstFailed int
}

func (c accountContender) firstServed() float64 {
	return float64(c.firstOK) / float64(max(c.firstOK+c.firstFailed, 1))
}

// boughtQuota is row 6: an account that bought 100/s, production at 10/s.
// Before cogsweep read Service Quotas it stayed under 22.5/s (4.0x ideal).
func (b *bench) boughtQuota(ctx context.Context) error {
	c := accountCase{row: "6", quota: 100, depth: 100, prod: 10, history: 20 * time.Minute, rows: 1200, workers: max(b.peerWorkers, 8)}
	if b.quick {
		c.rows = 300
	}
	cs, peer, err := b.accountPair(ctx, c)
	if err != nil {
		return err
	}
	ratio := cs.wall.Seconds() / c.ideal().Seconds()
	what := fmt.Sprintf("bought quota: applied and enforced 100/s (bucket 100, 50-60 ms latency), production 10/s (CloudWatch shows its last 20 minutes), %d deletes; ideal %.1f s at the free 90/s", c.rows, c.ideal().Seconds())
	b.add(
		row{n: c.row, what: what + ": cogsweep `--rate auto` (no --max-rate) time / ideal",
			value: fmt.Sprintf("%.1f s", cs.wall.Seconds()), ratio: fmt.Sprintf("%.3f", ratio), goal: "<= 1.10", pass: mark(cs.done && ratio <= 1.10)},
		row{n: c.row, what: fmt.Sprintf("bought quota: peer (SDK adaptive retry mode, %d goroutines) time / ideal", c.workers),
			value: fmt.Sprintf("%.1f s", peer.wall.Seconds()), ratio: fmt.Sprintf("%.3f", peer.wall.Seconds()/c.ideal().Seconds()), goal: "-"},
	)
	b.addShares(c.row, "bought quota", cs, peer, false)
	return nil
}

// busyProduction is row 7: production at 20/s for the last 20 minutes and
// on through the run, quota 25/s. Before cogsweep read CloudWatch, auto
// started at half the quota, drained the bucket and failed production's
// calls at once (throttled 2.9-3.9%, production served 0.970-0.982).
func (b *bench) busyProduction(ctx context.Context) error {
	c := accountCase{row: "7", quota: 25, depth: 25, prod: 20, history: 20 * time.Minute, rows: 300, workers: b.peerWorkers}
	if b.quick {
		c.rows = 100
	}
	cs, peer, err := b.accountPair(ctx, c)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("busy production known from CloudWatch: quota 25/s (bucket 25, 50-60 ms latency), production 20/s for the last 20 minutes and through the run, %d deletes; ideal %.1f s at the free 5/s", c.rows, c.ideal().Seconds())
	b.add(
		row{n: c.row, what: what + ": cogsweep `--rate auto` time / ideal; peer's",
			value: fmt.Sprintf("%.1f s; peer %.1f s", cs.wall.Seconds(), peer.wall.Seconds()),
			ratio: fmt.Sprintf("%.3f; peer %.3f", cs.wall.Seconds()/c.ideal().Seconds(), peer.wall.Seconds()/c.ideal().Seconds()), goal: "-"},
	)
	b.addShares(c.row, "busy production", cs, peer, true)
	return nil
}

// addShares adds a row's throttled and served lines, cogsweep's judged
// when judge is set.
func (b *bench) addShares(n, what string, cs, peer accountContender, judge bool) {
	goal := func(g string, ok bool) (string, *bool) {
		if !judge {
			return "-", nil
		}
		return g, mark(ok)
	}
	tg, tp := goal("<= 2%", cs.done && cs.throttleFr() <= 0.02)
	sg, sp := goal(">= 0.98", cs.done && cs.served() >= 0.98)
	fg, fp := goal(">= 0.98", cs.firstServed() >= 0.98)
	b.add(
		row{n: n, what: what + ": cogsweep throttled calls / calls; peer's",
			value: fmt.Sprintf("%d / %d; peer %d / %d", cs.throttled, cs.calls, peer.throttled, peer.calls),
			ratio: fmt.Sprintf("%s; peer %s", pct(cs.throttleFr()), pct(peer.throttleFr())), goal: tg, pass: tp},
		row{n: n, what: what + ": production calls served beside cogsweep; beside the peer",
			value: fmt.Sprintf("%d / %d; peer %d / %d", cs.prodOK, cs.prodOK+cs.prodFailed, peer.prodOK, peer.prodOK+peer.prodFailed),
			ratio: fmt.Sprintf("%.3f; peer %.3f", cs.served(), peer.served()), goal: sg, pass: sp},
		row{n: n, what: fmt.Sprintf("%s: production calls served in the first %s beside cogsweep; beside the peer", what, firstWindow),
			value: fmt.Sprintf("%d / %d; peer %d / %d", cs.firstOK, cs.firstOK+cs.firstFailed, peer.firstOK, peer.firstOK+peer.firstFailed),
			ratio: fmt.Sprintf("%.3f; peer %.3f", cs.firstServed(), peer.firstServed()), goal: fg, pass: fp},
	)
}

// accountPair runs cogsweep and the peer at the same time, each on its own
// fake of c.
func (b *bench) accountPair(ctx context.Context, c accountCase) (cs, peer accountContender, err error) {
	var wg sync.WaitGroup
	var csErr, peerErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		cs, csErr = b.accountJob(ctx, c, "cogsweep", func(f *served, csv, _ string) (string, []string) {
			return b.cogsweep, cogsweepDelete(f.pool, csv, f.url, "--rate", "auto")
		})
	}()
	go func() {
		defer wg.Done()
		peer, peerErr = b.accountJob(ctx, c, "peer", func(f *served, _, list string) (string, []string) {
			return b.peer, []string{"-mode", "adaptive", "-workers", fmt.Sprint(c.workers), "-endpoint", f.url, "-pool", f.pool, "-users", list}
		})
	}()
	wg.Wait()
	if err := errors.Join(csErr, peerErr); err != nil {
		return cs, peer, fmt.Errorf("row %s: %w", c.row, err)
	}
	fmt.Fprintf(os.Stderr, "bench: row %s: cogsweep %.3f, peer %.3f of the ideal\n", c.row,
		cs.wall.Seconds()/c.ideal().Seconds(), peer.wall.Seconds()/c.ideal().Seconds())
	return cs, peer, nil
}

// accountJob runs one job on a fresh fake of c: its applied quota in
// Service Quotas, production's history in the usage metrics, and
// production's calls from the moment the process starts until it exits.
// A job not done by 4 times the ideal is stopped and counted as not done.
func (b *bench) accountJob(ctx context.Context, c accountCase, who string, argv func(f *served, csv, list string) (string, []string)) (accountContender, error) {
	name := fmt.Sprintf("row%s-%s", c.row, who)
	users := names("user", c.rows)
	f, err := serveFake(fakecognito.Options{
		Latency: 50 * time.Millisecond, LatencyJitter: 10 * time.Millisecond, Seed: 16,
		UserUpdate:    fakecognito.Quota{Rate: c.quota, Burst: c.depth},
		AppliedQuotas: map[fakecognito.Category]float64{fakecognito.UserUpdate: c.quota},
	}, "us-east-1_BENCHACCT"+c.row, users)
	if err != nil {
		return accountContender{}, err
	}
	defer f.Close()
	f.SeedUsage(fakecognito.UserUpdate, c.history, c.prod, 0)
	dir := filepath.Join(b.dir, name)
	csv, list, err := writeInputs(dir, users)
	if err != nil {
		return accountContender{}, err
	}
	bin, args := argv(f, csv, list)
	jobCtx, cancel := context.WithTimeout(ctx, 4*c.ideal())
	defer cancel()
	prodCtx, stopProd := context.WithCancel(ctx)
	defer stopProd()
	var out accountContender
	var bg sync.WaitGroup
	p, err := runProc(jobCtx, dir, bin, args, func() {
		bg.Add(2)
		go func() {
			defer bg.Done()
			<-f.StartProduction(prodCtx, []fakecognito.Step{{Rate: c.prod}})
		}()
		go func() {
			defer bg.Done()
			t := time.NewTimer(firstWindow)
			defer t.Stop()
			select {
			case <-prodCtx.Done():
			case <-t.C:
			}
			out.firstOK, out.firstFailed = f.ProductionServed(), f.ProductionThrottled()
		}()
	})
	stopProd()
	bg.Wait()
	out.contender = contender{name: name, wall: p.wall, done: true, calls: f.Calls("AdminDeleteUser"), throttled: f.Throttled(),
		prodOK: f.ProductionServed(), prodFailed: f.ProductionThrottled()}
	if err != nil {
		if jobCtx.Err() == nil || ctx.Err() != nil {
			return accountContender{}, err
		}
		out.done, out.left = false, f.UserCount(f.pool)
		return out, nil
	}
	if left := f.UserCount(f.pool); left != 0 {
		return accountContender{}, fmt.Errorf("%s: %d users left in the fake", name, left)
	}
	return out, nil
}
