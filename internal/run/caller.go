package run

import (
	"context"
	"fmt"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// The pre-flight's first step: who calls (STS GetCallerIdentity), and what
// a failed answer means for the run.

// checkCaller is the pre-flight's first step: STS GetCallerIdentity. The
// call needs no IAM permission, so it proves exactly that the credentials
// work, and it names the caller for the audit. It also opens --backup, so
// an unusable backup path stops the run before any Cognito call. Runs
// without admin rows use no IAM credentials and skip it.
func (r *plan) checkCaller(ctx context.Context, a *admission) error {
	if !r.hasAdminRows() || r.scan.Rows == 0 {
		return nil
	}
	var err error
	if a.backup, err = r.openBackup(); err != nil {
		return err
	}
	// With --endpoint-url (moto, the local fake) and no STS endpoint of its
	// own, STS is asked at the same URL: emulators serve both, and asking
	// real AWS with test credentials could only fail. An emulator without
	// STS (cognito-local) then leaves the caller unchecked, with a warning:
	// it answers, with an error. An endpoint that does not answer at all
	// (refused, timed out) is another matter: the run stops (stsFailed).
	endpoint, local := r.o.STSEndpointURL, false
	if endpoint == "" && r.o.EndpointURL != "" && r.env.Getenv("AWS_ENDPOINT_URL_STS") == "" && r.env.Getenv("AWS_ENDPOINT_URL") == "" {
		endpoint, local = r.o.EndpointURL, true
	}
	pc := r.pacer
	if local {
		pc = pc.Attempts(2)
	}
	var caller cognito.Caller
	res := pc.Call(ctx, pacer.Control, func(ctx context.Context) error {
		var err error
		caller, err = a.users.CallerIdentity(ctx, endpoint)
		return err
	})
	if err := r.ssoLogin(a.cfg, res); err != nil {
		return err // sso.go
	}
	if res.Err != nil {
		return r.stsFailed(ctx, res, local)
	}
	a.caller = &caller
	return nil
}

// stsFailed decides what a failed GetCallerIdentity means. The endpoint
// answered without STS (an emulator: 404, an unknown operation, a 500 page):
// the caller is unchecked and the run goes on. It did not answer (refused,
// timed out, reset): exit 4, whatever the endpoint. Else the credentials do
// not work. Decided by the error's type and code (retry), never its text.
func (r *run) stsFailed(ctx context.Context, res retry.Result, local bool) error {
	switch {
	case ctx.Err() != nil:
		return r.stopped(ctx, "STS GetCallerIdentity")
	case !retry.Answered(res.Err) && res.Class.Transient():
		return &retry.FatalError{Code: res.Code, Err: fmt.Errorf(
			"pre-flight: the STS endpoint did not answer GetCallerIdentity (%s, %d attempts): check the network and the endpoint (--endpoint-url, --sts-endpoint-url, AWS_ENDPOINT_URL_STS)", res.Code, res.Attempts)}
	case local && res.Class != retry.Fatal:
		r.log.Warn("the --endpoint-url serves no STS: the caller is unchecked (give --sts-endpoint-url to check it)", "error", res.Code)
		return nil
	}
	return &retry.FatalError{Code: res.Code, Err: fmt.Errorf(
		"pre-flight: the AWS credentials do not work (STS GetCallerIdentity: %v): check --profile / AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, that a session token has not expired, and the STS endpoint (--sts-endpoint-url, AWS_ENDPOINT_URL_STS)", res.Err)}
}
