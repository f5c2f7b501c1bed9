package fakecognito_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func attrMap(attrs []types.AttributeType) map[string]string {
	m := map[string]string{}
	for _, a := range attrs {
		m[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return m
}

func TestServer_PoolLifecycle(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newFake(t, fakecognito.Options{})

	created, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("staff")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.UserPool.Id)
	if !validPoolIDForTest(id) {
		t.Fatalf("pool id %q does not look like us-east-1_XXXXXXXXX", id)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &id, Username: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &id})
	if err != nil {
		t.Fatal(err)
	}
	p := d.UserPool
	if aws.ToString(p.Id) != id || aws.ToString(p.Name) != "staff" || p.EstimatedNumberOfUsers != 2 {
		t.Errorf("DescribeUserPool = id %q name %q users %d", aws.ToString(p.Id), aws.ToString(p.Name), p.EstimatedNumberOfUsers)
	}
	if want := "arn:aws:cognito-idp:us-east-1:123456789012:userpool/" + id; aws.ToString(p.Arn) != want {
		t.Errorf("Arn = %q, want %q", aws.ToString(p.Arn), want)
	}

	email, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:           aws.String("by-email"),
		UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := email.UserPool.UsernameAttributes; !slices.Equal(got, []types.UsernameAttributeType{"email"}) {
		t.Errorf("UsernameAttributes = %v", got)
	}
}

func validPoolIDForTest(id string) bool {
	if len(id) != len("us-east-1_")+9 || id[:10] != "us-east-1_" {
		return false
	}
	for _, r := range id[10:] {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func TestServer_AdminCreateAndGetUser(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{})

	out, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:    aws.String(testPool),
		Username:      aws.String("alice"),
		MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String("alice@example.com")},
			{Name: aws.String("custom:dept"), Value: aws.String("ops")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.User.Username) != "alice" || out.User.UserStatus != types.UserStatusTypeForceChangePassword || !out.User.Enabled {
		t.Errorf("created user = %+v", out.User)
	}
	sub := attrMap(out.User.Attributes)["sub"]
	if len(sub) != 36 {
		t.Fatalf("sub = %q, want a UUID", sub)
	}

	for _, name := range []string{"alice", sub} {
		got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String(name)})
		if err != nil {
			t.Fatalf("AdminGetUser(%s): %v", name, err)
		}
		attrs := attrMap(got.UserAttributes)
		if aws.ToString(got.Username) != "alice" || attrs["sub"] != sub || attrs["email"] != "alice@example.com" || attrs["custom:dept"] != "ops" {
			t.Errorf("AdminGetUser(%s) = %q %v", name, aws.ToString(got.Username), attrs)
		}
		if !got.UserCreateDate.Equal(epoch) || !got.UserLastModifiedDate.Equal(epoch) || !got.Enabled {
			t.Errorf("AdminGetUser(%s) dates %v %v enabled %v", name, got.UserCreateDate, got.UserLastModifiedDate, got.Enabled)
		}
	}
}

func TestServer_DisableEnableMoveLastModified(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice"})
	in := &cip.AdminDisableUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}

	fake.Advance(30 * 24 * time.Hour)
	if _, err := c.AdminDisableUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	// Disabling twice succeeds, as in the service.
	if _, err := c.AdminDisableUser(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || !got.UserLastModifiedDate.Equal(epoch.Add(30*24*time.Hour)) || !got.UserCreateDate.Equal(epoch) {
		t.Errorf("after disable: enabled %v modified %v created %v", got.Enabled, got.UserLastModifiedDate, got.UserCreateDate)
	}

	fake.Advance(1500 * time.Millisecond)
	if _, err := c.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(testPool), Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	u, _ := fake.User(testPool, "alice")
	if u.Disabled || !u.Modified.Equal(epoch.Add(30*24*time.Hour+1500*time.Millisecond)) {
		t.Errorf("after enable: %+v", u)
	}
}

func TestServer_DeleteSignOutAndAttributes(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{},
		fakecognito.User{Username: "alice", Email: "a@example.com", Attributes: map[string]string{"name": "Alice", "custom:dept": "ops"}},
		fakecognito.User{Username: "bob"})
	pool := aws.String(testPool)

	if _, err := c.AdminDeleteUserAttributes(ctx, &cip.AdminDeleteUserAttributesInput{
		UserPoolId: pool, Username: aws.String("alice"), UserAttributeNames: []string{"email", "custom:dept"},
	}); err != nil {
		t.Fatal(err)
	}
	alice, _ := fake.User(testPool, "alice")
	if alice.Email != "" || alice.Attributes["custom:dept"] != "" || alice.Attributes["name"] != "Alice" {
		t.Errorf("after AdminDeleteUserAttributes: %+v", alice)
	}

	if _, err := c.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if alice, _ = fake.User(testPool, "alice"); alice.Revocations != 1 {
		t.Errorf("Revocations after sign-out = %d, want 1", alice.Revocations)
	}

	if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := fake.User(testPool, "bob"); ok {
		t.Error("bob still exists after AdminDeleteUser")
	}
	if n := fake.UserCount(testPool); n != 1 {
		t.Errorf("UserCount = %d, want 1", n)
	}
	_, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("bob")})
	if !isA[*types.UserNotFoundException](err) {
		t.Errorf("second delete: %v, want UserNotFoundException", err)
	}
}

func TestServer_UsernameAlternatives(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	const sub = "6513270e-269e-4d37-b2a7-4de452e6b438"
	mustPool := func(id string, opts fakecognito.PoolOptions) {
		if err := fake.CreatePool(id, opts); err != nil {
			t.Fatal(err)
		}
		if err := fake.AddUser(id, fakecognito.User{Username: "Alice", Sub: sub, Email: "alice@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	mustPool("us-east-1_PLAIN", fakecognito.PoolOptions{})
	mustPool("us-east-1_ALIAS", fakecognito.PoolOptions{AliasAttributes: []string{"email"}})
	mustPool("us-east-1_FOLD", fakecognito.PoolOptions{CaseInsensitive: true})

	tests := []struct {
		name, pool, username string
		found                bool
	}{
		{"username", "us-east-1_PLAIN", "Alice", true},
		{"sub", "us-east-1_PLAIN", sub, true},
		{"email in a plain pool", "us-east-1_PLAIN", "alice@example.com", false},
		{"case differs in a case-sensitive pool", "us-east-1_PLAIN", "alice", false},
		{"email in an alias pool", "us-east-1_ALIAS", "ALICE@example.com", true},
		{"case differs in a case-insensitive pool", "us-east-1_FOLD", "alice", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(tt.pool), Username: aws.String(tt.username)})
			if tt.found {
				if err != nil || aws.ToString(got.Username) != "Alice" {
					t.Fatalf("AdminGetUser = %v, %v; want Alice", got, err)
				}
				return
			}
			if !isA[*types.UserNotFoundException](err) {
				t.Fatalf("AdminGetUser err = %v, want UserNotFoundException", err)
			}
		})
	}

	// In a pool whose users sign in with their email, Cognito names the
	// user by its sub and admin calls accept the email.
	p, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("email"), UsernameAttributes: []types.UsernameAttributeType{"email"},
	})
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: p.UserPool.Id, Username: aws.String("bob@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	attrs := attrMap(created.User.Attributes)
	if aws.ToString(created.User.Username) != attrs["sub"] || attrs["email"] != "bob@example.com" {
		t.Errorf("email-username user = %q %v", aws.ToString(created.User.Username), attrs)
	}
	if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: p.UserPool.Id, Username: aws.String("bob@example.com")}); err != nil {
		t.Errorf("AdminDisableUser by email: %v", err)
	}
}

func TestServer_Groups(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	var users []fakecognito.User
	for i := range 7 {
		users = append(users, fakecognito.User{Username: string(rune('a'+i)) + "-user"})
	}
	seedPool(t, fake, fakecognito.PoolOptions{}, users...)
	pool := aws.String(testPool)

	for _, g := range []string{"admins", "staff", "zeta"} {
		out, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String(g), Description: aws.String("the " + g)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Group.GroupName) != g || !out.Group.CreationDate.Equal(epoch) {
			t.Errorf("CreateGroup = %+v", out.Group)
		}
	}
	for _, u := range users {
		if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String(u.Username), GroupName: aws.String("staff")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"zeta", "admins"} {
		if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: pool, Username: aws.String("a-user"), GroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}

	var listed []string
	pages := cip.NewListUsersInGroupPaginator(c, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String("staff"), Limit: aws.Int32(3)})
	npages := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		npages++
		for _, u := range page.Users {
			listed = append(listed, aws.ToString(u.Username))
		}
	}
	want := []string{"a-user", "b-user", "c-user", "d-user", "e-user", "f-user", "g-user"}
	if !slices.Equal(listed, want) || npages != 3 {
		t.Errorf("ListUsersInGroup = %v in %d pages, want %v in 3", listed, npages, want)
	}

	first, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String("a-user"), Limit: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: pool, Username: aws.String("a-user"), Limit: aws.Int32(2), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range append(first.Groups, second.Groups...) {
		groups = append(groups, aws.ToString(g.GroupName))
	}
	if !slices.Equal(groups, []string{"admins", "staff", "zeta"}) || second.NextToken != nil {
		t.Errorf("AdminListGroupsForUser = %v (next %v)", groups, second.NextToken)
	}

	// Deleting a user takes it out of its groups.
	if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("a-user")}); err != nil {
		t.Fatal(err)
	}
	admins, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: pool, GroupName: aws.String("admins")})
	if err != nil {
		t.Fatal(err)
	}
	if len(admins.Users) != 0 {
		t.Errorf("admins after delete = %d users", len(admins.Users))
	}
}
