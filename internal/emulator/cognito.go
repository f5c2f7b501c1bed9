// Package emulator starts third-party Cognito emulators (moto, cognito-local)
// as child processes for integration tests, and sets up pools, clients,
// users and tokens in them through the real aws-sdk-go-v2 client.
//
// Helpers take a testing.TB and fail the test on any error: a missing
// emulator is a failure, never a skip, so that CI cannot pass by running
// nothing.
//
// It may import cognito; only tests and scripts/bench import it.
package emulator

import (
	"context"
	"errors"
	"fmt"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/sync/errgroup"
)

// Credentials and region every emulator is called with. moto keeps its state
// per region of the request's signature, so a child process must use the
// same region to see the pools a test created (Env does that).
const (
	Region          = "us-east-1"
	AccessKeyID     = "test"
	SecretAccessKey = "test"
)

// callTimeout bounds each setup call so a hung emulator fails the test
// instead of running into go test's global timeout.
const callTimeout = 30 * time.Second

// Cognito is a Cognito user-pools endpoint served by an emulator. Its helpers
// fail the test they are given on any error, and use that test's context, so
// they cannot be called from t.Cleanup. They are safe for concurrent use,
// except that cognito-local must get one write at a time (see CognitoLocal).
type Cognito struct {
	url string
	cfg aws.Config
	api *cip.Client
	// writers is how many setup writes may run at once: moto takes many,
	// cognito-local rewrites one JSON file per write and corrupts it under
	// concurrent writes.
	writers int
}

func newCognito(url string, writers int) *Cognito {
	cfg := AWSConfig()
	return &Cognito{
		url:     url,
		cfg:     cfg,
		api:     cip.NewFromConfig(cfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(url) }),
		writers: writers,
	}
}

// AWSConfig is an SDK configuration with the static test credentials, Region
// and SDK retries off, built without reading the environment or ~/.aws: a
// test must never pick up real credentials. Pair it with an endpoint, as in
// cognito.New(emulator.AWSConfig(), m.URL()).
func AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		// Retries would hide emulator errors the tests want to see.
		Retryer:    func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient: cognito.PlainBody(nil),
	}
}

// URL is the emulator's base URL (http://127.0.0.1:<port>), for an SDK
// BaseEndpoint or cogsweep's --endpoint-url.
func (c *Cognito) URL() string { return c.url }

// AWSConfig returns the SDK configuration the helpers use; see AWSConfig.
func (c *Cognito) AWSConfig() aws.Config { return c.cfg.Copy() }

// Env is the environment a child process (cogsweep itself) needs to call the
// emulator: append it to os.Environ() or a clean environment (exec.Cmd uses
// the last value of a duplicated key). AWS_PROFILE and AWS_SESSION_TOKEN are
// blanked so that the host's settings cannot leak into the run. The endpoint
// is not included: pass URL() explicitly.
func (c *Cognito) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// CognitoClient returns the SDK client the helpers use, for calls they do not
// cover.
func (c *Cognito) CognitoClient() *cip.Client { return c.api }

// PoolOption adjusts a CreateUserPool request.
type PoolOption func(*cip.CreateUserPoolInput)

// EmailUsernames makes users sign in with their email address as username
// (UsernameAttributes email). In moto such pools make every lookup a scan.
func EmailUsernames() PoolOption {
	return func(in *cip.CreateUserPoolInput) {
		in.UsernameAttributes = []types.UsernameAttributeType{types.UsernameAttributeTypeEmail}
	}
}

// CustomAttributes declares mutable string attributes; callers then name
// them with the "custom:" prefix, as in Cognito.
func CustomAttributes(names ...string) PoolOption {
	return func(in *cip.CreateUserPoolInput) {
		for _, n := range names {
			in.Schema = append(in.Schema, types.SchemaAttributeType{
				Name:              aws.String(n),
				AttributeDataType: types.AttributeDataTypeString,
				Mutable:           aws.Bool(true),
			})
		}
	}
}

// CreatePool creates a user pool and returns its id.
func (c *Cognito) CreatePool(t testing.TB, name string, opts ...PoolOption) string {
	t.Helper()
	in := &cip.CreateUserPoolInput{PoolName: aws.String(name)}
	for _, o := range opts {
		o(in)
	}
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	out, err := c.api.CreateUserPool(ctx, in)
	if err != nil {
		t.Fatalf("create user pool %q: %v", name, err)
	}
	return aws.ToString(out.UserPool.Id)
}

// CreateUserPoolClient creates an app client without a secret that allows
// USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH, and returns its id.
func (c *Cognito) CreateUserPoolClient(t testing.TB, pool string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	out, err := c.api.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(pool),
		ClientName: aws.String("cogsweep-test"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
	})
	if err != nil {
		t.Fatalf("create user pool client in %s: %v", pool, err)
	}
	return aws.ToString(out.UserPoolClient.ClientId)
}

// CreateUsers creates users without attributes or password and without
// sending invitations, several at a time on moto (which serves about 300
// calls/s whatever the concurrency) and one at a time on cognito-local.
func (c *Cognito) CreateUsers(t testing.TB, pool string, names []string) {
	t.Helper()
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(c.writers)
	for _, name := range names {
		g.Go(func() error { return c.createUser(ctx, pool, name, nil) })
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("create %d users in %s: %v", len(names), pool, err)
	}
}

// CreateUser creates one user with attributes (names as in Cognito, e.g.
// "email", "custom:team") and, unless password is empty, sets that password
// as permanent so the user is CONFIRMED and can sign in.
func (c *Cognito) CreateUser(t testing.TB, pool, username, password string, attrs map[string]string) {
	t.Helper()
	if err := c.createUser(t.Context(), pool, username, attrs); err != nil {
		t.Fatal(err)
	}
	if password == "" {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	_, err := c.api.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(pool),
		Username:   aws.String(username),
		Password:   aws.String(password),
		Permanent:  true,
	})
	if err != nil {
		t.Fatalf("set password of %q in %s: %v", username, pool, err)
	}
}

func (c *Cognito) createUser(ctx context.Context, pool, username string, attrs map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	in := &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(pool),
		Username:      aws.String(username),
		MessageAction: types.MessageActionTypeSuppress,
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{
			Name: aws.String(name), Value: aws.String(attrs[name]),
		})
	}
	if _, err := c.api.AdminCreateUser(ctx, in); err != nil {
		return fmt.Errorf("create user %q in %s: %w", username, pool, err)
	}
	return nil
}

// AccessToken signs the user in with ADMIN_USER_PASSWORD_AUTH through client
// and returns the access token. Keep it out of failure messages.
func (c *Cognito) AccessToken(t testing.TB, pool, client, username, password string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	out, err := c.api.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool),
		ClientId:   aws.String(client),
		AuthFlow:   types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{
			"USERNAME": username,
			"PASSWORD": password,
		},
	})
	if err != nil {
		t.Fatalf("sign in %q in %s: %v", username, pool, err)
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		t.Fatalf("sign in %q in %s: no access token (challenge %q)", username, pool, out.ChallengeName)
	}
	return aws.ToString(out.AuthenticationResult.AccessToken)
}

// ListUsernames returns every username in the pool, sorted, reading ListUsers
// 60 at a time (the service maximum).
func (c *Cognito) ListUsernames(t testing.TB, pool string) []string {
	t.Helper()
	var names []string
	seen := map[string]bool{}
	var token *string
	for {
		ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
		out, err := c.api.ListUsers(ctx, &cip.ListUsersInput{
			UserPoolId: aws.String(pool), Limit: aws.Int32(60), PaginationToken: token,
		})
		cancel()
		if err != nil {
			t.Fatalf("list users of %s: %v", pool, err)
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.Username))
		}
		token = out.PaginationToken
		if aws.ToString(token) == "" {
			break
		}
		// A token seen before would loop forever.
		if seen[*token] {
			t.Fatalf("list users of %s: pagination token repeats after %d users", pool, len(names))
		}
		seen[*token] = true
	}
	sort.Strings(names)
	return names
}

// UserEnabled reports whether the user exists and, if so, whether it is
// enabled.
func (c *Cognito) UserEnabled(t testing.TB, pool, username string) (enabled, exists bool) {
	t.Helper()
	out, ok := c.getUser(t, pool, username)
	if !ok {
		return false, false
	}
	return out.Enabled, true
}

// UserAttributes returns the user's attributes by name, or nil if the user
// does not exist.
func (c *Cognito) UserAttributes(t testing.TB, pool, username string) map[string]string {
	t.Helper()
	out, ok := c.getUser(t, pool, username)
	if !ok {
		return nil
	}
	attrs := make(map[string]string, len(out.UserAttributes))
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return attrs
}

func (c *Cognito) getUser(t testing.TB, pool, username string) (*cip.AdminGetUserOutput, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	out, err := c.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(pool), Username: aws.String(username)})
	var notFound *types.UserNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil, false
	case err != nil:
		t.Fatalf("get user %q in %s: %v", username, pool, err)
	}
	return out, true
}

// stopOnCleanup registers the emulator's shutdown with t.
func stopOnCleanup(t testing.TB, p *process) {
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("stop emulator: %v", err)
		}
	})
}
