package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"

	"github.com/cogsweep/cogsweep/internal/cognito"
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
		HTTPClient:  cognito.PlainBody(nil),
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

func (b *bench) moto(ctx context.Context) error {
	const parallel = 8
	n := 300
	if b.quick {
		n = 40
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		return errors.New("moto_server is not installed (pip install \"moto[server]\")")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		return errors.New("the aws CLI is not installed")
	}
	dir := filepath.Join(b.dir, "row5")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, err := startMoto(ctx, dir)
	if err != nil {
		return err
	}
	defer m.stop()
	api := motoClient(m.url)
	pool, err := createPool(ctx, api)
	if err != nil {
		return err
	}
	users := names("moto", n)
	csv, list, err := writeInputs(dir, users)
	if err != nil {
		return err
	}

	if err := createUsers(ctx, api, pool, users); err != nil {
		return err
	}
	script := fmt.Sprintf("xargs -P %d -I{} %s --endpoint-url %s cognito-idp admin-delete-user --user-pool-id %s --username {} < %s",
		parallel, awsCLI(), m.url, pool, list)
	cli, err := runProc(ctx, dir, "bash", []string{"-c", script}, nil)
	if err != nil {
		return err
	}
	if left, err := countUsers(ctx, api, pool); err != nil || left != 0 {
		return fmt.Errorf("aws CLI left %d users (%v)", left, err)
	}

	if err := createUsers(ctx, api, pool, users); err != nil {
		return err
	}
	cs, err := runProc(ctx, dir, b.cogsweep, cogsweepDelete(pool, csv, m.url, "--rate", "1000", "--concurrency", fmt.Sprint(parallel)), nil)
	if err != nil {
		return err
	}
	if left, err := countUsers(ctx, api, pool); err != nil || left != 0 {
		return fmt.Errorf("cogsweep left %d users (%v)", left, err)
	}
	speed := cli.wall.Seconds() / cs.wall.Seconds()
	b.add(row{n: "5", what: fmt.Sprintf("peer on moto_server: %d deletes, `aws cognito-idp admin-delete-user` via `xargs -P %d` vs cogsweep `--rate 1000 --concurrency %d`: aws CLI time / cogsweep time",
		n, parallel, parallel),
		value: fmt.Sprintf("%.1f s / %.1f s (%.0f vs %.0f rows/s)", cli.wall.Seconds(), cs.wall.Seconds(), float64(n)/cli.wall.Seconds(), float64(n)/cs.wall.Seconds()),
		ratio: fmt.Sprintf("%.1fx faster", speed), goal: ">= 1", pass: mark(speed >= 1)})
	return nil
}
