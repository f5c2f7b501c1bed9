// Command nopcogsweep is cogsweep against a Cognito that answers every call
// at once and does nothing: the real reader, pre-pass and duplicate
// detection, limiter, checkpoint, report and its compaction, with no
// network. It exists for the memory row of `make bench` (peak RSS on huge
// inputs) and is never shipped: the cogsweep binary has no such mode, the
// backend is injected from Go through cli.Env.Backend.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/cli"
	"github.com/cogsweep/cogsweep/internal/cognito"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		Backend: nop{},
	})
	stop()
	os.Exit(code)
}

// nop succeeds at every call without doing anything; pools are empty as
// far as DescribeUserPool tells, and every user exists, enabled.
type nop struct{}

var _ cli.Backend = nop{}

func (nop) GetUser(_ context.Context, _, username string) (cognito.User, string, error) {
	return cognito.User{Username: username, Enabled: true, Status: "CONFIRMED"}, "", nil
}
func (nop) DisableUser(context.Context, string, string) (string, error)   { return "", nil }
func (nop) EnableUser(context.Context, string, string) (string, error)    { return "", nil }
func (nop) DeleteUser(context.Context, string, string) (string, error)    { return "", nil }
func (nop) GlobalSignOut(context.Context, string, string) (string, error) { return "", nil }
func (nop) DeleteAttributes(context.Context, string, string, []string) (string, error) {
	return "", nil
}
func (nop) SelfDelete(context.Context, string) (string, error) { return "", nil }
func (nop) SelfDeleteAttributes(context.Context, string, []string) (string, error) {
	return "", nil
}
func (nop) DescribePool(_ context.Context, pool string) (cognito.Pool, error) {
	return cognito.Pool{ID: pool, Name: pool}, nil
}
func (nop) FindByEmail(context.Context, string, string, string) ([]string, string, string, error) {
	return nil, "", "", nil
}
func (nop) UserGroups(context.Context, string, string) ([]string, string, error) {
	return nil, "", nil
}
func (nop) CallerIdentity(context.Context, string) (cognito.Caller, error) {
	return cognito.Caller{ARN: "arn:aws:iam::123456789012:user/bench", Account: "123456789012", UserID: "BENCH"}, nil
}
func (nop) ListUsersPage(context.Context, string, string, string, int32) ([]types.UserType, string, error) {
	return nil, "", nil
}
func (nop) ListUsersInGroupPage(context.Context, string, string, string, int32) ([]types.UserType, string, error) {
	return nil, "", nil
}
