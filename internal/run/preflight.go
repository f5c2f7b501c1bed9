package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// defaultPreflightTimeout is --preflight-timeout's default. The pre-flight
// makes a handful of calls that each answer in well under a second; an
// endpoint that accepts connections and never answers must not hold a run
// (a CronJob) for minutes of per-call timeouts and retries.
const defaultPreflightTimeout = 30 * time.Second

// preflightTimeout is the cause of the pre-flight context's end when its
// deadline passed.
type preflightTimeout struct{ d time.Duration }

func (e *preflightTimeout) Error() string {
	return fmt.Sprintf("the pre-flight did not finish within --preflight-timeout %s", e.d)
}

// preflightContext bounds every call of the pre-flight (credentials, pool,
// guards, access check) by one deadline, retries and backoffs included.
func (r *run) preflightContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, r.o.PreflightTimeout, &preflightTimeout{d: r.o.PreflightTimeout})
}

// stopped is the pre-flight's error once ctx ended during step: a signal is
// an interruption (exit 75); the pre-flight's deadline is a run-wide fault
// (exit 4) naming the step it cut short.
func (r *run) stopped(ctx context.Context, step string) error {
	var pt *preflightTimeout
	if errors.As(context.Cause(ctx), &pt) {
		return &retry.FatalError{Code: "PreflightTimeout", Err: fmt.Errorf(
			"%w, at %s: the endpoint does not answer; check --endpoint-url, --sts-endpoint-url and the network, or raise --preflight-timeout", pt, step)}
	}
	return batch.ErrInterrupted
}

// preflight checks, before the first write, that the credentials work and
// the pool named by the flag exists. Token-only runs use no IAM credentials
// and skip it. It starts with the caller check (identity.go).
func (r *plan) preflight(ctx context.Context, a *admission) error {
	c, region := a.users, r.region
	if err := r.checkCaller(ctx, a); err != nil {
		return err
	}
	o := r.o
	if !r.hasAdminRows() || o.UserPoolID == "" || r.scan.Rows == 0 {
		return nil
	}
	var pool cognito.Pool
	res := r.pacer.Call(ctx, pacer.Control, func(ctx context.Context) error {
		var err error
		pool, err = c.DescribePool(ctx, o.UserPoolID)
		return err
	})
	if err := res.Err; err != nil {
		if ctx.Err() != nil {
			return r.stopped(ctx, "DescribeUserPool "+o.UserPoolID)
		}
		switch res.Code {
		case "ResourceNotFoundException":
			return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("user pool %s does not exist in %s (check --user-pool-id and --region)", o.UserPoolID, region)}
		case "AccessDeniedException":
			return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("the credentials may not call cognito-idp:DescribeUserPool on %s: grant it (the pre-flight check needs it)", o.UserPoolID)}
		}
		return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("pre-flight DescribeUserPool %s: %w", o.UserPoolID, err)}
	}
	r.pools.remember(o.UserPoolID, pool, true) // the guards (admit) judge its size
	return nil
}
