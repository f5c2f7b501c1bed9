// Package fakecognito is a wire-level fake of the Cognito user-pools API: an
// http.Handler that speaks awsJson1_1 the way the real aws-sdk-go-v2 client
// expects, with the real error codes, so the SDK adapter can be tested as it
// runs against AWS. Unlike the emulators it has a movable clock, server-side
// quotas, competing production traffic, and seeded faults: throttling,
// internal errors, latency and connection resets. It also serves the
// account-level reads of a run: STS GetCallerIdentity (sts.go), Service
// Quotas (account.go) and CloudWatch's usage metrics (cloudwatch.go).
//
// It imports no cogsweep package, so that it shares no code with what it
// fakes; tests, cmd/fakecognito and scripts/bench import it.
package fakecognito
