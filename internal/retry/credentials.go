package retry

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CredentialsError marks a failure to obtain the run's AWS credentials.
// Classify treats it as Fatal (CodeCredentialsError) unless its cause is
// transient, so the run stops instead of failing every row the same way.
type CredentialsError struct{ Err error }

// Error returns "get AWS credentials: <cause>".
func (e *CredentialsError) Error() string { return "get AWS credentials: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *CredentialsError) Unwrap() error { return e.Err }

// WrapCredentials returns a provider whose errors are *CredentialsError.
//
// Why it is needed: the SDK's identity resolution reports a provider failure
// as plain fmt.Errorf text ("get identity: get credentials: ..."), and the
// default chain's providers (IMDS, web identity, SSO) fail with types of
// their own or none, so without this mark such an error could only be
// recognised by its message. Wrap cfg.Credentials when building the client.
// A nil or anonymous provider is returned unchanged.
func WrapCredentials(p aws.CredentialsProvider) aws.CredentialsProvider {
	if p == nil || aws.IsCredentialsProvider(p, (*aws.AnonymousCredentials)(nil)) {
		return p
	}
	return credentialsProvider{p}
}

type credentialsProvider struct{ p aws.CredentialsProvider }

// Retrieve calls the wrapped provider and marks its error.
func (c credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.p.Retrieve(ctx)
	if err != nil {
		return creds, &CredentialsError{Err: err}
	}
	return creds, nil
}

// IsCredentialsProvider lets aws.IsCredentialsProvider see the wrapped
// provider's type.
func (c credentialsProvider) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(c.p, target)
}

// ProviderSources forwards the wrapped provider's sources (the SDK reports
// them in its user agent).
func (c credentialsProvider) ProviderSources() []aws.CredentialSource {
	if s, ok := c.p.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}
