package run

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"

	"github.com/cogsweep/cogsweep/internal/retry"
)

// ssoLogin turns a credentials failure of an SSO profile into what to do:
// `aws sso login --profile NAME`. The SDK types the failure only for a
// legacy profile's cached token (ssocreds.InvalidTokenError); with an
// sso_session the token provider fails as plain text, so any non-transient
// credentials failure of an SSO provider counts. nil when it is not one.
func (r *run) ssoLogin(cfg *aws.Config, res retry.Result) error {
	var invalid *ssocreds.InvalidTokenError
	var creds *retry.CredentialsError
	sso := cfg != nil && aws.IsCredentialsProvider(cfg.Credentials, (*ssocreds.Provider)(nil))
	switch {
	case errors.As(res.Err, &invalid):
	case sso && errors.As(res.Err, &creds) && !res.Class.Transient():
	default:
		return nil
	}
	profile := r.o.Profile
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if profile == "" {
			profile = r.env.Getenv(k)
		}
	}
	if profile == "" {
		profile = "default"
	}
	return &retry.FatalError{Code: res.Code, Err: fmt.Errorf(
		"pre-flight: the AWS SSO session of profile %s has expired or was never started: run `aws sso login --profile %s`, then this command again (%w)", profile, profile, res.Err)}
}
