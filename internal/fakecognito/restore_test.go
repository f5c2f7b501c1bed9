package fakecognito_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// Restore's calls: AdminCreateUser with MessageAction, and the errors a
// create and a group add meet, as the service shapes them.
func TestServer_RestoreCalls(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	pool := out.UserPool.Id
	if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String("staff")}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, action types.MessageActionType) error {
		_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String(name), MessageAction: action,
			UserAttributes: []types.AttributeType{{Name: aws.String("custom:team"), Value: aws.String("blue")}}})
		return err
	}
	tests := []struct {
		name            string
		call            func() error
		wantCode        string
		wantInvitations int
	}{
		{name: "suppressed create sends nothing", call: func() error { return create("alice", types.MessageActionTypeSuppress) }, wantInvitations: 0},
		{name: "second create of a name", call: func() error { return create("alice", types.MessageActionTypeSuppress) }, wantCode: "UsernameExistsException"},
		{name: "create without action invites", call: func() error { return create("bob", "") }, wantInvitations: 1},
		{name: "resend to an existing user", call: func() error { return create("alice", types.MessageActionTypeResend) }, wantInvitations: 2},
		{name: "resend to nobody", call: func() error { return create("carol", types.MessageActionTypeResend) }, wantCode: "UserNotFoundException", wantInvitations: 2},
		{name: "bad message action", call: func() error { return create("dave", "SHOUT") }, wantCode: "InvalidParameterException", wantInvitations: 2},
		{name: "add to a group", call: func() error {
			_, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("staff")})
			return err
		}, wantInvitations: 2},
		{name: "add to a missing group", call: func() error {
			_, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("alice"), GroupName: aws.String("gone")})
			return err
		}, wantCode: "ResourceNotFoundException", wantInvitations: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if got := errorCode(err); got != tt.wantCode {
				t.Fatalf("error code %q (%v), want %q", got, err, tt.wantCode)
			}
			if got := fake.Invitations(); got != tt.wantInvitations {
				t.Errorf("invitations = %d, want %d", got, tt.wantInvitations)
			}
		})
	}
	u, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrMap(u.UserAttributes)["custom:team"]; got != "blue" {
		t.Errorf("custom:team = %q, want blue", got)
	}
}

// AdminCreateUser spends the UserCreation bucket when one is set.
func TestServer_UserCreationQuota(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newFake(t, fakecognito.Options{UserCreation: fakecognito.Quota{Rate: 1, Burst: 1}})
	out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, name := range []string{"a", "b"} {
		_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: out.UserPool.Id, Username: aws.String(name), MessageAction: types.MessageActionTypeSuppress})
		codes = append(codes, errorCode(err))
	}
	if codes[0] != "" || codes[1] != "TooManyRequestsException" {
		t.Errorf("codes = %q, want the second throttled (the fake's clock stands still)", codes)
	}
}
