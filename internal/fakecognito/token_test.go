package fakecognito_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func TestIssueToken_Shape(t *testing.T) {
	fake, _, _ := newFake(t, fakecognito.Options{})
	const sub = "6513270e-269e-4d37-b2a7-4de452e6b438"
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice", Sub: sub})

	tok := fake.IssueToken(testPool, "alice")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload is not base64url: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": sub, "username": "alice", "token_use": "access", "scope": "aws.cognito.signin.user.admin",
		"iat": float64(epoch.Unix()), "exp": float64(epoch.Add(time.Hour).Unix()),
		"iss": "https://cognito-idp.us-east-1.amazonaws.com/" + testPool,
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"jti", "client_id"} {
		if s, _ := claims[k].(string); s == "" {
			t.Errorf("claim %s missing", k)
		}
	}
	if other := fake.IssueToken(testPool, "alice"); other == tok {
		t.Error("two tokens are identical: jti must differ")
	}
}

func TestTokenCalls(t *testing.T) {
	tests := []struct {
		name string
		// before runs after the token is issued and before the call.
		before   func(t *testing.T, fake *fakecognito.Server, c *cip.Client)
		token    func(tok string) string
		wantCode string // empty: success
	}{
		{"fresh token", nil, nil, ""},
		{"token just before expiry", func(t *testing.T, fake *fakecognito.Server, _ *cip.Client) {
			fake.Advance(time.Hour - time.Second)
		}, nil, ""},
		{"expired token", func(t *testing.T, fake *fakecognito.Server, _ *cip.Client) {
			fake.Advance(time.Hour)
		}, nil, "NotAuthorizedException"},
		{"not a JWT", nil, func(string) string { return "abc.def" }, "NotAuthorizedException"},
		{"payload not JSON", nil, func(tok string) string {
			p := strings.Split(tok, ".")
			return p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + p[2]
		}, "NotAuthorizedException"},
		{"id token instead of access token", nil, func(tok string) string {
			return rewriteClaim(t, tok, "token_use", "id")
		}, "NotAuthorizedException"},
		{"globally signed out", func(t *testing.T, _ *fakecognito.Server, c *cip.Client) {
			if _, err := c.AdminUserGlobalSignOut(context.Background(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}); err != nil {
				t.Fatal(err)
			}
		}, nil, "NotAuthorizedException"},
		{"disabled", func(t *testing.T, _ *fakecognito.Server, c *cip.Client) {
			if err := disable(context.Background(), c, testPool, "alice"); err != nil {
				t.Fatal(err)
			}
		}, nil, "NotAuthorizedException"},
		{"disabled then enabled again", func(t *testing.T, _ *fakecognito.Server, c *cip.Client) {
			ctx := context.Background()
			if err := disable(ctx, c, testPool, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}); err != nil {
				t.Fatal(err)
			}
		}, nil, "NotAuthorizedException"},
		{"user deleted", func(t *testing.T, _ *fakecognito.Server, c *cip.Client) {
			if _, err := c.AdminDeleteUser(context.Background(), &cip.AdminDeleteUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}); err != nil {
				t.Fatal(err)
			}
		}, nil, "NotAuthorizedException"},
		{"user deleted and recreated under the same name", func(t *testing.T, fake *fakecognito.Server, c *cip.Client) {
			if _, err := c.AdminDeleteUser(context.Background(), &cip.AdminDeleteUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}); err != nil {
				t.Fatal(err)
			}
			if err := fake.AddUser(testPool, fakecognito.User{Username: "alice"}); err != nil {
				t.Fatal(err)
			}
		}, nil, "NotAuthorizedException"},
	}
	calls := []struct {
		name    string
		call    func(c *cip.Client, tok string) error
		deletes bool
	}{
		{"DeleteUser", func(c *cip.Client, tok string) error {
			_, err := c.DeleteUser(context.Background(), &cip.DeleteUserInput{AccessToken: aws.String(tok)})
			return err
		}, true},
		{"DeleteUserAttributes", func(c *cip.Client, tok string) error {
			_, err := c.DeleteUserAttributes(context.Background(), &cip.DeleteUserAttributesInput{AccessToken: aws.String(tok), UserAttributeNames: []string{"email"}})
			return err
		}, false},
	}
	for _, call := range calls {
		for _, tt := range tests {
			t.Run(call.name+"/"+tt.name, func(t *testing.T) {
				fake, c, _ := newFake(t, fakecognito.Options{})
				seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice", Email: "alice@example.com"})
				tok := fake.IssueToken(testPool, "alice")
				if tt.before != nil {
					tt.before(t, fake, c)
				}
				if tt.token != nil {
					tok = tt.token(tok)
				}
				err := call.call(c, tok)
				if tt.wantCode != "" {
					if !isA[*types.NotAuthorizedException](err) || errorCode(err) != tt.wantCode {
						t.Fatalf("err = %v, want %s", err, tt.wantCode)
					}
					for _, secret := range append(strings.Split(tok, "."), tok) {
						if len(secret) > 16 && strings.Contains(err.Error(), secret) {
							t.Error("the error message echoes the token")
						}
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				u, found := fake.User(testPool, "alice")
				if call.deletes {
					if found {
						t.Error("the user still exists")
					}
					return
				}
				if !found || u.Email != "" {
					t.Errorf("after DeleteUserAttributes: found %v, %+v", found, u)
				}
			})
		}
	}
}

// rewriteClaim returns tok with one claim of its payload replaced.
func rewriteClaim(t *testing.T, tok, claim string, value any) string {
	t.Helper()
	p := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(p[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims[claim] = value
	raw, _ = json.Marshal(claims)
	return p[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + p[2]
}

func TestTokenCalls_UnknownUserToken(t *testing.T) {
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{})
	_, err := c.DeleteUser(context.Background(), &cip.DeleteUserInput{AccessToken: aws.String(fake.IssueToken(testPool, "ghost"))})
	if !isA[*types.NotAuthorizedException](err) {
		t.Fatalf("err = %v, want NotAuthorizedException", err)
	}
}
