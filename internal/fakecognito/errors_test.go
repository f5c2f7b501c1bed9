package fakecognito_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func TestServer_ErrorCodesReachTheSDK(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	pool := aws.String(testPool)
	get := func(poolID, username string) func() error {
		return func() error {
			_, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(username)})
			return err
		}
	}

	tests := []struct {
		name  string
		call  func() error
		code  string
		typed func(error) bool
	}{
		{"unknown pool", get("us-east-1_NOPE", "alice"), "ResourceNotFoundException", isA[*types.ResourceNotFoundException]},
		{"unknown user", get(testPool, "nobody"), "UserNotFoundException", isA[*types.UserNotFoundException]},
		{"malformed pool id", get("no-underscore", "alice"), "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"pool id too long", get("us-east-1_"+strings.Repeat("a", 46), "alice"), "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"username with a space", get(testPool, "al ice"), "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"username with a control character", get(testPool, "al\tice"), "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"username of 129 characters", get(testPool, strings.Repeat("é", 129)), "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"unknown user on disable", func() error {
			_, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("nobody")})
			return err
		}, "UserNotFoundException", isA[*types.UserNotFoundException]},
		{"unknown user on sign-out", func() error {
			_, err := c.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: aws.String("nobody")})
			return err
		}, "UserNotFoundException", isA[*types.UserNotFoundException]},
		{"unknown pool on describe", func() error {
			_, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_NOPE")})
			return err
		}, "ResourceNotFoundException", isA[*types.ResourceNotFoundException]},
		{"list limit above 60", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Limit: aws.Int32(61)})
			return err
		}, "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"unparsable filter", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email ~ "x"`)})
			return err
		}, "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"filter on an unsupported attribute", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`custom:dept = "x"`)})
			return err
		}, "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"foreign pagination token", func() error {
			_, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, PaginationToken: aws.String("bm9wZQ")})
			return err
		}, "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"existing username", func() error {
			_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("alice")})
			return err
		}, "UsernameExistsException", isA[*types.UsernameExistsException]},
		{"attribute outside the schema", func() error {
			_, err := c.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{UserPoolId: pool, Username: aws.String("alice"), UserAttributeNames: []string{"dept"}})
			return err
		}, "InvalidParameterException", isA[*types.InvalidParameterException]},
		{"unknown group", func() error {
			_, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", isA[*types.ResourceNotFoundException]},
		{"malformed access token", func() error {
			_, err := c.DeleteUser(ctx, &cip.DeleteUserInput{AccessToken: aws.String("not-a-jwt")})
			return err
		}, "NotAuthorizedException", isA[*types.NotAuthorizedException]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := errorCode(err); got != tt.code {
				t.Fatalf("error code = %q (%v), want %s", got, err, tt.code)
			}
			if !tt.typed(err) {
				t.Errorf("error %T does not unwrap to the typed %s", err, tt.code)
			}
		})
	}

	if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("g")})
	if !isA[*types.GroupExistsException](err) {
		t.Errorf("second CreateGroup: %v, want GroupExistsException", err)
	}
}

// TestServer_Wire checks what the SDK's typed errors hide: status codes,
// headers and body shapes, and the protocol errors the SDK cannot send.
func TestServer_Wire(t *testing.T) {
	fake, _, url := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})

	tests := []struct {
		name     string
		target   string
		body     string
		status   int
		code     string // empty: success
		wantBody string // for successes
	}{
		{"success with empty result", "AWSCognitoIdentityProviderService.AdminDisableUser", `{"UserPoolId":"` + testPool + `","Username":"alice"}`, 200, "", "{}"},
		{"client fault", "AWSCognitoIdentityProviderService.AdminGetUser", `{"UserPoolId":"` + testPool + `","Username":"bob"}`, 400, "UserNotFoundException", ""},
		{"malformed JSON", "AWSCognitoIdentityProviderService.AdminGetUser", `{"UserPoolId":`, 400, "SerializationException", ""},
		{"wrong member type", "AWSCognitoIdentityProviderService.ListUsers", `{"UserPoolId":"` + testPool + `","Limit":"ten"}`, 400, "SerializationException", ""},
		{"unknown operation", "AWSCognitoIdentityProviderService.AdminFrobnicate", `{}`, 400, "UnknownOperationException", ""},
		{"foreign service prefix", "DynamoDB_20120810.AdminGetUser", `{}`, 400, "UnknownOperationException", ""},
		{"missing required member", "AWSCognitoIdentityProviderService.AdminGetUser", `{"UserPoolId":"` + testPool + `"}`, 400, "InvalidParameterException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", tt.target)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if id := resp.Header.Get("x-amzn-RequestId"); len(id) != 36 {
				t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if tt.code == "" {
				if b, _ := json.Marshal(body); string(b) != tt.wantBody {
					t.Errorf("body = %s, want %s", b, tt.wantBody)
				}
				return
			}
			if got := resp.Header.Get("x-amzn-ErrorType"); got != tt.code {
				t.Errorf("x-amzn-ErrorType = %q, want %s", got, tt.code)
			}
			if body["__type"] != tt.code || body["message"] == "" || body["message"] == nil {
				t.Errorf("body = %v, want __type %s and a message", body, tt.code)
			}
		})
	}
}

func TestServer_InternalErrorIs500(t *testing.T) {
	_, c, _ := newFake(t, fakecognito.Options{ErrorProb: 1})
	_, err := c.AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")})
	if !isA[*types.InternalErrorException](err) {
		t.Fatalf("err = %v, want InternalErrorException", err)
	}
	if !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Errorf("err = %v, want HTTP 500", err)
	}
}
