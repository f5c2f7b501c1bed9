// Package cognito adapts the AWS SDK's Cognito user-pool client to the few
// calls cogsweep makes.
//
// It may import retry (the credentials' classes); batch, run, backup and the
// emulators import it. It knows no rows, files or flags.
package cognito

import (
	"context"
	"time"
)

// User is what AdminGetUser tells about a user.
type User struct {
	Username   string
	Sub        string
	Enabled    bool
	Status     string // UserStatus: CONFIRMED, UNCONFIRMED, ...
	Created    time.Time
	Modified   time.Time
	Attributes map[string]string
}

// Pool is what DescribeUserPool tells about a pool.
type Pool struct {
	ID                 string
	Name               string
	EstimatedUsers     int
	UsernameAttributes []string // "email", "phone_number"
	AliasAttributes    []string
}

// Users is every per-user call a run makes. Methods return the service's
// request id when it gave one; errors are the SDK's own (smithy.APIError
// through any wrapping) so internal/retry can classify them by code.
type Users interface {
	GetUser(ctx context.Context, pool, username string) (User, string, error)
	DisableUser(ctx context.Context, pool, username string) (string, error)
	EnableUser(ctx context.Context, pool, username string) (string, error)
	DeleteUser(ctx context.Context, pool, username string) (string, error)
	GlobalSignOut(ctx context.Context, pool, username string) (string, error)
	DeleteAttributes(ctx context.Context, pool, username string, names []string) (string, error)
	// SelfDelete and SelfDeleteAttributes authenticate with the user's
	// access token only; no IAM credentials are used or needed.
	SelfDelete(ctx context.Context, accessToken string) (string, error)
	SelfDeleteAttributes(ctx context.Context, accessToken string, names []string) (string, error)
}

// NewUser is what restore creates: a user with the attributes an admin
// may write. Invite sends Cognito's invitation (temporary password) to
// the user; without it the create is silent (MessageAction SUPPRESS).
type NewUser struct {
	Username   string
	Attributes map[string]string
	Invite     bool
}
