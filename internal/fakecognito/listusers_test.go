package fakecognito_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func TestListUsers_Filters(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	const carolSub = "9531985d-5d9d-49f8-9818-e811892f902b"
	seedPool(t, fake, fakecognito.PoolOptions{},
		fakecognito.User{Username: "alice", Email: "alice.smith@example.com", Attributes: map[string]string{
			"given_name": "Alice", "family_name": "Smith", "name": "Alice Smith", "phone_number": "+15550100",
		}},
		fakecognito.User{Username: "alina", Email: "alina@corp.example", Status: "UNCONFIRMED", Attributes: map[string]string{
			"given_name": "Alina", "preferred_username": "al",
		}},
		fakecognito.User{Username: "bob", Email: "bob@example.com", Disabled: true, Attributes: map[string]string{"family_name": "Smithers"}},
		fakecognito.User{Username: "carol", Sub: carolSub, Disabled: true, Status: "RESET_REQUIRED"},
		fakecognito.User{Username: `quote"d`},
	)

	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"no filter", "", []string{"alice", "alina", "bob", "carol", `quote"d`}},
		{"username exact", `username = "bob"`, []string{"bob"}},
		{"username prefix", `username ^= "ali"`, []string{"alice", "alina"}},
		{"username without spaces", `username="carol"`, []string{"carol"}},
		{"escaped quote", `username = "quote\"d"`, []string{`quote"d`}},
		{"email exact", `email = "bob@example.com"`, []string{"bob"}},
		{"email prefix", `email ^= "ali"`, []string{"alice", "alina"}},
		{"phone number", `phone_number = "+15550100"`, []string{"alice"}},
		{"name", `name = "Alice Smith"`, []string{"alice"}},
		{"given name prefix", `given_name ^= "Ali"`, []string{"alice", "alina"}},
		{"family name prefix", `family_name ^= "Smith"`, []string{"alice", "bob"}},
		{"preferred username", `preferred_username = "al"`, []string{"alina"}},
		{"sub", `sub = "` + carolSub + `"`, []string{"carol"}},
		{"sub that is not a UUID", `sub = "nope"`, nil},
		{"user status", `cognito:user_status = "UNCONFIRMED"`, []string{"alina"}},
		{"user status prefix", `cognito:user_status ^= "RESET"`, []string{"carol"}},
		{"disabled", `status = "Disabled"`, []string{"bob", "carol"}},
		{"enabled", `status = "Enabled"`, []string{"alice", "alina", `quote"d`}},
		{"status is case-sensitive", `status = "disabled"`, nil},
		{"no match", `email = "nobody@example.com"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(testPool), Filter: aws.String(tt.filter)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range out.Users {
				got = append(got, aws.ToString(u.Username))
			}
			if !slices.Equal(got, tt.want) || out.PaginationToken != nil {
				t.Errorf("ListUsers(%s) = %v (token %v), want %v", tt.filter, got, out.PaginationToken, tt.want)
			}
		})
	}
}

func TestListUsers_Pagination(t *testing.T) {
	ctx := context.Background()
	var all, enabled, disabled []string
	var seed []fakecognito.User
	for i := range 130 {
		name := fmt.Sprintf("user%03d", i)
		all = append(all, name)
		if i%2 == 1 {
			disabled = append(disabled, name)
		} else {
			enabled = append(enabled, name)
		}
		seed = append(seed, fakecognito.User{Username: name, Disabled: i%2 == 1})
	}
	fives := make([]int, 13)
	for i := range fives {
		fives[i] = 5
	}

	tests := []struct {
		name      string
		filter    string
		limit     *int32
		wantPages []int
		want      []string
		// deleteFirst deletes the first user of the first page once that
		// page is read: a token holding an index would then skip a user.
		deleteFirst bool
	}{
		{"default limit is 60", "", nil, []int{60, 60, 10}, all, false},
		{"limit 60", "", aws.Int32(60), []int{60, 60, 10}, all, false},
		{"small pages", "", aws.Int32(50), []int{50, 50, 30}, all, false},
		{"filtered", `status = "Disabled"`, aws.Int32(30), []int{30, 30, 5}, disabled, false},
		{"exact fit ends without a token", `status = "Enabled"`, aws.Int32(5), fives, enabled, false},
		{"a delete behind the cursor skips nobody", "", aws.Int32(60), []int{60, 60, 10}, all, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, _ := newFake(t, fakecognito.Options{})
			seedPool(t, fake, fakecognito.PoolOptions{}, seed...)
			in := &cip.ListUsersInput{UserPoolId: aws.String(testPool), Limit: tt.limit, Filter: aws.String(tt.filter)}
			var sizes []int
			var got []string
			for {
				out, err := c.ListUsers(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(out.Users))
				for _, u := range out.Users {
					got = append(got, aws.ToString(u.Username))
				}
				if out.PaginationToken == nil {
					break
				}
				if tt.deleteFirst && len(sizes) == 1 {
					if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(testPool), Username: aws.String(got[0])}); err != nil {
						t.Fatal(err)
					}
				}
				in.PaginationToken = out.PaginationToken
			}
			if !slices.Equal(sizes, tt.wantPages) {
				t.Errorf("page sizes = %v, want %v", sizes, tt.wantPages)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("listed %d users, want %d in creation order", len(got), len(tt.want))
			}
		})
	}
}

func TestListUsers_AttributesToGet(t *testing.T) {
	ctx := context.Background()
	fake, c, _ := newFake(t, fakecognito.Options{})
	seedPool(t, fake, fakecognito.PoolOptions{}, fakecognito.User{Username: "alice", Email: "a@example.com", Attributes: map[string]string{"name": "Alice"}})

	tests := []struct {
		name string
		get  []string
		want map[string]string
	}{
		{"all by default", nil, map[string]string{"sub": "*", "email": "a@example.com", "name": "Alice"}},
		{"only email", []string{"email"}, map[string]string{"email": "a@example.com"}},
		{"none", []string{}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: aws.String(testPool), AttributesToGet: tt.get})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Users) != 1 {
				t.Fatalf("got %d users", len(out.Users))
			}
			got := attrMap(out.Users[0].Attributes)
			if len(got) != len(tt.want) {
				t.Fatalf("attributes = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || (v != "*" && g != v) {
					t.Errorf("attribute %s = %q, want %q", k, g, v)
				}
			}
			u := out.Users[0]
			if !u.Enabled || u.UserStatus != types.UserStatusTypeConfirmed || !u.UserCreateDate.Equal(epoch) {
				t.Errorf("user = %+v", u)
			}
		})
	}
}
