package run

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
)

// Backend is every Cognito and STS call a run makes. The command builds a
// *cognito.Client from the AWS SDK; Env.Backend lets Go code (tests, and
// the no-op build of the memory benchmark in scripts/bench/nopcogsweep) run
// the whole pipeline against another. No flag or variable reaches it: the
// shipped binary always calls AWS.
type Backend interface {
	cognito.Users
	batch.Lookups
	CallerIdentity(ctx context.Context, endpoint string) (cognito.Caller, error)
	ListUsersPage(ctx context.Context, pool, filter, token string, limit int32) ([]types.UserType, string, error)
	ListUsersInGroupPage(ctx context.Context, pool, group, token string, limit int32) ([]types.UserType, string, error)
}

var _ Backend = (*cognito.Client)(nil)
