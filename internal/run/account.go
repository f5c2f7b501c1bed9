package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/account"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/pace"
)

// usageWindow is how far back production's load is read: long enough to
// see a busy hour's peak, short enough to be today's production.
const usageWindow = time.Hour

// maxAccountRead bounds each account read below --call-timeout: the reads
// are optional and must not spend the pre-flight's deadline (a Service
// Quotas or CloudWatch endpoint that never answers).
const maxAccountRead = 5 * time.Second

// accountPlan is the quota of the category the run's rows spend (UserUpdate
// for writes, UserCreation for restore's creates), production's recent load
// of it and what they leave this run: free is this shard's share of the
// free rate.
type accountPlan struct {
	category account.Category
	quota    account.Quota
	usage    account.Usage
	free     float64
	prior    float64 // quota minus production's peak, this shard's share (0: unknown)
	// maxRate is this shard's ceiling in the category: the quota's share
	// when --max-rate (restore: --create-rate) was left at its default,
	// else the flag's.
	maxRate  float64
	rows     int
	estimate time.Duration
	audit    map[string]any // the audit record's "account"
	// reader and usageKnown let the run read CloudWatch again (watch.go):
	// only when the pre-flight's read worked.
	reader     *account.Reader
	usageKnown bool
}

// readAccount reads, before the first write, the applied quota of the
// write category and production's calls of it over the last hour, and
// plans with them: --max-rate defaults to the applied quota (an explicit
// one wins), --rate auto starts at the free share (limiters). Every read
// is optional: what cannot be read is one warning line naming the
// permission, and the run goes on with today's defaults. rows are the
// rows left to settle. The plan is nil when nothing was read.
func (r *plan) readAccount(ctx context.Context, a *admission, rows int) (*accountPlan, error) {
	if a.cfg == nil || !r.hasAdminRows() || r.scan.Rows == 0 {
		return nil, nil
	}
	rd := account.New(*a.cfg, account.Endpoints{
		Quotas:  r.serviceEndpoint("AWS_ENDPOINT_URL_SERVICE_QUOTAS"),
		Metrics: r.serviceEndpoint("AWS_ENDPOINT_URL_CLOUDWATCH"),
	})
	var problems, perms []string
	// note records a read that gave no figure. Only the end of the run's
	// own context stops it; a read that outlived --call-timeout is just
	// not used.
	note := func(err error, step string) error {
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return r.stopped(ctx, step)
		}
		var un *account.Unavailable
		if !errors.As(err, &un) {
			un = &account.Unavailable{What: "the account's figures", Err: fmt.Errorf("%s: %w", step, err)}
		}
		problems = append(problems, un.Error())
		if un.Permission != "" {
			perms = append(perms, un.Permission)
		}
		return nil
	}
	timeout := min(r.o.CallTimeout, maxAccountRead)
	qctx, cancel := context.WithTimeout(ctx, timeout)
	cat := r.rowCategory()
	q, err := rd.ReadQuota(qctx, cat)
	cancel()
	if err := note(err, "Service Quotas GetServiceQuota"); err != nil {
		return nil, err
	}
	uctx, cancel := context.WithTimeout(ctx, timeout)
	u, err := rd.ReadUsage(uctx, cat, usageWindow)
	cancel()
	if err := note(err, "CloudWatch GetMetricData"); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		// One line whatever failed: a caller without the permissions sees
		// nothing else change.
		r.log.Warn("the account's figures are partly unknown; planning with the defaults: "+strings.Join(problems, "; "), "permissions", perms)
	}
	plan := r.applyPlan(q, u, rows)
	plan.reader, plan.usageKnown = rd, u.Known
	return plan, nil
}

// of is the plan when it is of category c, else nil: a restore's plan is of
// its creates, and its writes (group adds, disables) then go at the flags'
// rates, as without a plan.
func (p *accountPlan) of(c account.Category) *accountPlan {
	if p == nil || p.category != c {
		return nil
	}
	return p
}

// serviceEndpoint is --endpoint-url for a service whose own endpoint
// variable is unset, as for STS: an emulator serves them all, and asking
// real AWS with its test credentials could only fail.
func (r *run) serviceEndpoint(variable string) string {
	if r.o.EndpointURL == "" || r.env.Getenv(variable) != "" || r.env.Getenv("AWS_ENDPOINT_URL") != "" {
		return ""
	}
	return r.o.EndpointURL
}

// applyPlan plans the run (--max-rate from the quota when the flag was left
// at its default) and logs the plan.
func (r *run) applyPlan(q account.Quota, u account.Usage, rows int) *accountPlan {
	shards := float64(max(r.shard.Count, 1))
	est := account.Plan(q, u, rows, 1)
	flag, rate := r.rateFlag()
	p := &accountPlan{category: q.Category, quota: q, usage: u, free: est.Free / shards, rows: rows, maxRate: rate}
	if q.Known && r.o.Sources[flag] == "default" {
		p.maxRate = q.Applied / shards // the quota is a job-wide total, like the flag
	}
	if u.Known {
		// Where throttling should begin: auto's first climb levels off
		// under it instead of heading for the quota.
		p.prior = est.Free / account.Margin / shards
	}
	p.estimate = account.Duration(float64(rows), r.plannedRate(p.free, p.maxRate))

	prod := "unknown"
	if u.Known {
		prod = fmt.Sprintf("%.3g/s", u.Peak)
	}
	msg := fmt.Sprintf("at about %.3g/s free (quota %.3g/s, production %s over the last hour), %d rows take about %s",
		p.free, q.Applied, prod, rows, p.estimate)
	if r.console {
		r.log.Info(msg) // the figures are the sentence's, and the audit record's
	} else {
		r.log.Info(msg, "quota", q.Applied, "quota_known", q.Known, "production_peak", u.Peak, "production_mean", u.Mean,
			"production_known", u.Known, "free", p.free, "max_rate", p.maxRate, "rows", rows, "estimate", p.estimate.String())
	}
	p.audit = map[string]any{
		"category": string(q.Category), "quota": q.Applied, "quota_default": q.Default, "quota_known": q.Known,
		"production_peak": u.Peak, "production_mean": u.Mean, "production_throttled": u.Throttled,
		"production_known": u.Known, "usage_window": usageWindow.String(),
		"free": p.free, "max_rate": p.maxRate, "rows": rows, "estimate_seconds": p.estimate.Seconds(),
	}
	return p
}

// plannedRate is the rate the run's rows go at: auto's free share under
// its ceiling (maxRate), or the fixed --rate (restore: --create-rate).
func (r *run) plannedRate(free, maxRate float64) float64 {
	if r.o.Rate == "auto" {
		return min(free, pace.AutoConfig(maxRate).Ceiling*maxRate)
	}
	if r.o.Action == batch.Restore {
		return r.o.CreateRate
	}
	return r.fixedRate()
}

// rowCategory is the category each row's main call spends: restore's
// AdminCreateUser is UserCreation (shared with sign-ups), every other
// action's write UserUpdate. The account plan reads that category.
func (r *run) rowCategory() account.Category {
	if r.o.Action == batch.Restore {
		return account.UserCreation
	}
	return account.UserUpdate
}

// rateFlag is the flag that caps rowCategory's rate and its value.
func (r *run) rateFlag() (string, float64) {
	if r.o.Action == batch.Restore {
		return "create-rate", r.o.CreateRate
	}
	return "max-rate", r.o.MaxRate
}
