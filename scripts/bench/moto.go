package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cogsweep/cogsweep/internal/emulator"
)

// motoServer is a moto_server child process, started as the integration
// tests start it (internal/emulator).
type motoServer struct {
	m   *emulator.Moto
	url string
}

// startMoto starts moto_server on a free loopback port and waits until it
// answers. dir is unused: the emulator keeps the child's output for its
// errors.
func startMoto(ctx context.Context, _ string) (*motoServer, error) {
	m, err := emulator.LaunchMoto(ctx)
	if err != nil {
		return nil, err
	}
	return &motoServer{m: m, url: m.URL()}, nil
}

func (m *motoServer) stop() { _ = m.m.Stop() }

// motoClient calls moto with the fake credentials, SDK retries off.
func motoClient(url string) *cip.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return cip.NewFromConfig(cfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
}

func createPool(ctx context.Context, api *cip.Client) (string, error) {
	out, err := api.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bench")})
	if err != nil {
		return "", fmt.Errorf("create pool in moto: %w", err)
	}
	return aws.ToString(out.UserPool.Id), nil
}

// createUsers creates users 8 at a time.
func createUsers(ctx context.Context, api *cip.Client, pool string, users []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, u := range users {
		g.Go(func() error {
			_, err := api.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
				UserPoolId: aws.String(pool), Username: aws.String(u), MessageAction: types.MessageActionTypeSuppress,
			})
			if err != nil {
				return fmt.Errorf("create user %s in moto: %w", u, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// countUsers lists the pool.
func countUsers(ctx context.Context, api *cip.Client, pool string) (int, error) {
	n := 0
	var token *string
	for {
		out, err := api.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(pool), PaginationToken: token, Limit: aws.Int32(60)})
		if err != nil {
			return n, fmt.Errorf("list users in moto: %w", err)
		}
		n += len(out.Users)
		if aws.ToString(out.PaginationToken) == "" {
			return n, nil
		}
		token = out.PaginationToken
	}
}

// awsCLI is the aws executable. A pyenv shim is resolved to the real
// script first: the shim's own start-up (a shell and pyenv) is not the AWS
// CLI's cost, and skipping it only helps the CLI's side of the ratio.
func awsCLI() string {
	if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
		if p := strings.TrimSpace(string(out)); p != "" {
			return p
		}
	}
	return "aws"
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// grouped writes n with thousands separators.
func grouped(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
