package cognito

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/cogsweep/cogsweep/internal/retry"
)

var _ Users = (*Client)(nil)

// Client is the SDK-backed implementation of Users.
type Client struct {
	api *cip.Client
	cfg aws.Config // for the other services a run calls (STS)
}

// Config is what a run needs to reach Cognito.
type Config struct {
	Region      string
	Profile     string
	EndpointURL string // empty: the SDK's own resolution (incl. AWS_ENDPOINT_URL_*)
	// MaxConns bounds idle connections kept per host; size it to the
	// concurrency so no call waits for a connection and none sits idle.
	MaxConns int
	// Log receives the SDK's own log lines (nil: the SDK's default, plain
	// text on stderr); see sdklog.go.
	Log *slog.Logger
}

// LoadAWSConfig loads the SDK's default credential chain with SDK retries
// turned off: internal/retry is the one owner of retries. The SDK's standard
// retryer would retry TooManyRequestsException on its own and share a retry
// budget across workers that runs dry under sustained throttling.
func LoadAWSConfig(ctx context.Context, c Config) (aws.Config, error) {
	maxConns := c.MaxConns
	if maxConns < 2 {
		maxConns = 2
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = maxConns * 2
		t.MaxIdleConnsPerHost = maxConns
		t.IdleConnTimeout = 90 * time.Second
	}).WithDialerOptions(func(d *net.Dialer) {
		d.Timeout = 5 * time.Second
	})
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithHTTPClient(httpClient),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Log != nil {
		opts = append(opts, config.WithLogger(sdkLogger{c.Log}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	cfg.HTTPClient = PlainBody(cfg.HTTPClient)
	// The SDK reports a credentials failure as text only; the wrapper gives
	// it a type that internal/retry classifies as fatal for the run.
	if cfg.Credentials != nil {
		cfg.Credentials = retry.WrapCredentials(cfg.Credentials)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set --region or AWS_REGION")
	}
	return cfg, nil
}

// New returns a Client for cfg. endpoint, when set, overrides the SDK's
// endpoint resolution (tests, moto, the local fake).
func New(cfg aws.Config, endpoint string) *Client {
	return &Client{api: cip.NewFromConfig(cfg, func(o *cip.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.Retryer = aws.NopRetryer{}
	}), cfg: cfg}
}

// API exposes the SDK client for the calls outside Users (pool checks,
// selection).
func (c *Client) API() *cip.Client { return c.api }

func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// GetUser calls AdminGetUser.
func (c *Client) GetUser(ctx context.Context, pool, username string) (User, string, error) {
	out, err := c.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &pool, Username: &username})
	if err != nil {
		return User{}, "", err
	}
	u := User{
		Username:   aws.ToString(out.Username),
		Enabled:    out.Enabled,
		Status:     string(out.UserStatus),
		Created:    aws.ToTime(out.UserCreateDate),
		Modified:   aws.ToTime(out.UserLastModifiedDate),
		Attributes: make(map[string]string, len(out.UserAttributes)),
	}
	for _, a := range out.UserAttributes {
		u.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	u.Sub = u.Attributes["sub"]
	return u, requestID(out.ResultMetadata), nil
}

// DisableUser calls AdminDisableUser.
func (c *Client) DisableUser(ctx context.Context, pool, username string) (string, error) {
	out, err := c.api.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &pool, Username: &username})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// EnableUser calls AdminEnableUser.
func (c *Client) EnableUser(ctx context.Context, pool, username string) (string, error) {
	out, err := c.api.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: &pool, Username: &username})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// DeleteUser calls AdminDeleteUser.
func (c *Client) DeleteUser(ctx context.Context, pool, username string) (string, error) {
	out, err := c.api.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &pool, Username: &username})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// GlobalSignOut calls AdminUserGlobalSignOut.
func (c *Client) GlobalSignOut(ctx context.Context, pool, username string) (string, error) {
	out, err := c.api.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: &pool, Username: &username})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// DeleteAttributes calls AdminDeleteUserAttributes.
func (c *Client) DeleteAttributes(ctx context.Context, pool, username string, names []string) (string, error) {
	out, err := c.api.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{
		UserPoolId: &pool, Username: &username, UserAttributeNames: names,
	})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// SelfDelete calls DeleteUser with the user's own access token. The SDK
// sends it unsigned (the operation is anonymous), so no IAM credentials are
// used.
func (c *Client) SelfDelete(ctx context.Context, accessToken string) (string, error) {
	out, err := c.api.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: &accessToken})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// SelfDeleteAttributes calls DeleteUserAttributes with the user's own access
// token.
func (c *Client) SelfDeleteAttributes(ctx context.Context, accessToken string, names []string) (string, error) {
	out, err := c.api.DeleteUserAttributes(ctx, &cip.DeleteUserAttributesInput{AccessToken: &accessToken, UserAttributeNames: names})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}

// DescribePool calls DescribeUserPool.
func (c *Client) DescribePool(ctx context.Context, pool string) (Pool, error) {
	out, err := c.api.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &pool})
	if err != nil {
		return Pool{}, err
	}
	p := Pool{ID: pool}
	if up := out.UserPool; up != nil {
		p.Name = aws.ToString(up.Name)
		p.EstimatedUsers = int(up.EstimatedNumberOfUsers)
		for _, a := range up.UsernameAttributes {
			p.UsernameAttributes = append(p.UsernameAttributes, string(a))
		}
		for _, a := range up.AliasAttributes {
			p.AliasAttributes = append(p.AliasAttributes, string(a))
		}
	}
	return p, nil
}

// ListUsersPage calls ListUsers once. filter is ListUsers' filter syntax
// ("" for all users); token is the previous page's PaginationToken.
func (c *Client) ListUsersPage(ctx context.Context, pool, filter, token string, limit int32) ([]types.UserType, string, error) {
	in := &cip.ListUsersInput{UserPoolId: &pool, Limit: aws.Int32(limit)}
	if filter != "" {
		in.Filter = &filter
	}
	if token != "" {
		in.PaginationToken = &token
	}
	out, err := c.api.ListUsers(ctx, in)
	if err != nil {
		return nil, "", err
	}
	return out.Users, aws.ToString(out.PaginationToken), nil
}

// plainBodyClient works around a race in smithy-go (v1.28.9): the SDK
// closes the request body as soon as the response headers arrive, and its
// body's WriteTo then returns io.EOF as an error. When net/http is still
// doing its last read of the body (a fast server answers first), it takes
// that for a body read error and closes the connection under the response
// being read ("use of closed network connection", seen on large ListUsers
// pages). Hiding WriteTo makes that last read a plain Read, which ends the
// write normally.
type plainBodyClient struct{ base aws.HTTPClient }

// PlainBody wraps an SDK HTTP client with the workaround above; every SDK
// client of this module (tests' included) should use it.
func PlainBody(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return &plainBodyClient{c}
}

func (c *plainBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		// A shallow copy: Clone would deep-copy the headers on every call.
		r := *req
		r.Body = struct{ io.ReadCloser }{req.Body}
		req = &r
	}
	return c.base.Do(req)
}

// ListUsersInGroupPage calls ListUsersInGroup once. token is the previous
// page's NextToken.
func (c *Client) ListUsersInGroupPage(ctx context.Context, pool, group, token string, limit int32) ([]types.UserType, string, error) {
	in := &cip.ListUsersInGroupInput{UserPoolId: &pool, GroupName: &group, Limit: aws.Int32(limit)}
	if token != "" {
		in.NextToken = &token
	}
	out, err := c.api.ListUsersInGroup(ctx, in)
	if err != nil {
		return nil, "", err
	}
	return out.Users, aws.ToString(out.NextToken), nil
}

// CreateUser calls AdminCreateUser and returns the user as created, its
// new sub among its attributes.
func (c *Client) CreateUser(ctx context.Context, pool string, nu NewUser) (User, string, error) {
	in := &cip.AdminCreateUserInput{UserPoolId: &pool, Username: &nu.Username}
	for name, v := range nu.Attributes {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(name), Value: aws.String(v)})
	}
	if nu.Invite {
		// A new user's invitation goes by SMS unless asked otherwise.
		if nu.Attributes["email"] != "" {
			in.DesiredDeliveryMediums = []types.DeliveryMediumType{types.DeliveryMediumTypeEmail}
		}
	} else {
		in.MessageAction = types.MessageActionTypeSuppress
	}
	out, err := c.api.AdminCreateUser(ctx, in)
	if err != nil {
		return User{}, "", err
	}
	u := User{Attributes: map[string]string{}}
	if t := out.User; t != nil {
		u.Username, u.Enabled, u.Status = aws.ToString(t.Username), t.Enabled, string(t.UserStatus)
		for _, a := range t.Attributes {
			u.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
	}
	u.Sub = u.Attributes["sub"]
	return u, requestID(out.ResultMetadata), nil
}

// AddUserToGroup calls AdminAddUserToGroup.
func (c *Client) AddUserToGroup(ctx context.Context, pool, username, group string) (string, error) {
	out, err := c.api.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: &pool, Username: &username, GroupName: &group})
	if err != nil {
		return "", err
	}
	return requestID(out.ResultMetadata), nil
}
