package fakecognito_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

const demoPool = "us-east-1_DEMO00001"

func TestLoadCSV_DemoFixture(t *testing.T) {
	f, err := os.Open("../../fixtures/fakecognito/demo/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fake, c, _ := newFake(t, fakecognito.Options{})
	if err := fake.LoadCSV(f); err != nil {
		t.Fatal(err)
	}
	users := fake.Users(demoPool)
	if len(users) != 40 {
		t.Fatalf("%d users, want 40", len(users))
	}
	disabled := 0
	for _, u := range users {
		if u.Disabled {
			disabled++
		}
	}
	if disabled == 0 || disabled == len(users) {
		t.Errorf("%d disabled users, want some", disabled)
	}

	ctx := context.Background()
	admins, err := c.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: aws.String(demoPool), GroupName: aws.String("admins")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range admins.Users {
		names = append(names, aws.ToString(u.Username))
	}
	if !slices.Equal(names, []string{"alice", "bob"}) {
		t.Errorf("admins = %v, want alice and bob", names)
	}
	got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(demoPool), Username: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if attrs := attrMap(got.UserAttributes); attrs["email"] != "alice.smith@example.com" || attrs["sub"] != "6513270e-269e-4d37-b2a7-4de452e6b438" {
		t.Errorf("alice = %v", attrs)
	}
	if want := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC); !got.UserCreateDate.Equal(want) {
		t.Errorf("alice created %v, want %v", got.UserCreateDate, want)
	}
}

func TestLoadCSV(t *testing.T) {
	const header = "user_pool_id,username,email,sub,enabled,status,created,modified,groups\n"
	tests := []struct {
		name    string
		csv     string
		wantErr string // empty: loads
		check   func(t *testing.T, fake *fakecognito.Server)
	}{
		{
			name: "defaults",
			csv:  "username,user_pool_id\nalice,us-east-1_A\n",
			check: func(t *testing.T, fake *fakecognito.Server) {
				u, ok := fake.User("us-east-1_A", "alice")
				if !ok || u.Disabled || u.Status != "CONFIRMED" || !u.Created.Equal(epoch) || !u.Modified.Equal(epoch) || len(u.Sub) != 36 {
					t.Errorf("alice = %+v", u)
				}
			},
		},
		{
			name: "every column, BOM and spaces in the header",
			csv: "\ufeff user_pool_id ,username,email,sub,enabled,status,created,modified,groups,ignored\n" +
				"us-east-1_A,bob,bob@example.com,9531985d-5d9d-49f8-9818-e811892f902b,false,UNCONFIRMED,2023-01-02T03:04:05Z,2023-02-01T00:00:00+01:00,admins; staff,x\n",
			check: func(t *testing.T, fake *fakecognito.Server) {
				u, _ := fake.User("us-east-1_A", "bob")
				want := fakecognito.User{
					Username: "bob", Sub: "9531985d-5d9d-49f8-9818-e811892f902b", Email: "bob@example.com",
					Disabled: true, Status: "UNCONFIRMED",
					Created:  time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC),
					Modified: time.Date(2023, 1, 31, 23, 0, 0, 0, time.UTC),
					Groups:   []string{"admins", "staff"},
				}
				if fmt.Sprint(u) != fmt.Sprint(want) {
					t.Errorf("bob = %+v\nwant  %+v", u, want)
				}
			},
		},
		{
			name: "several pools",
			csv:  header + "us-east-1_A,alice,,,,,,,\neu-west-1_B,alice,,,,,,,\n",
			check: func(t *testing.T, fake *fakecognito.Server) {
				if fake.UserCount("us-east-1_A") != 1 || fake.UserCount("eu-west-1_B") != 1 {
					t.Error("want one user in each pool")
				}
			},
		},
		{name: "no username column", csv: "user_pool_id,email\nus-east-1_A,a@example.com\n", wantErr: "no username column"},
		{name: "bad enabled", csv: header + "us-east-1_A,alice,,,maybe,,,,\n", wantErr: "line 2"},
		{name: "bad time", csv: header + "us-east-1_A,alice,,,,,yesterday,,\n", wantErr: "line 2"},
		{name: "bad status", csv: header + "us-east-1_A,alice,,,,ASLEEP,,,\n", wantErr: "unknown status"},
		{name: "bad sub", csv: header + "us-east-1_A,alice,,1234,,,,,\n", wantErr: "not a UUID"},
		{name: "bad pool id", csv: header + "us-east-1,alice,,,,,,,\n", wantErr: "invalid pool id"},
		{name: "bad username", csv: header + "us-east-1_A,al ice,,,,,,,\n", wantErr: "invalid username"},
		{name: "duplicate", csv: header + "us-east-1_A,alice,,,,,,,\nus-east-1_A,alice,,,,,,,\n", wantErr: "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakecognito.New(fakecognito.Options{Now: func() time.Time { return epoch }})
			err := fake.LoadCSV(strings.NewReader(tt.csv))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, fake)
		})
	}
}

// TestMemoryPerUser guards "a million users must be fine": it measures the
// heap a batch of seeded users takes.
func TestMemoryPerUser(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a large pool")
	}
	const n = 200_000
	fake := fakecognito.New(fakecognito.Options{Now: func() time.Time { return epoch }})
	if err := fake.CreatePool(testPool, fakecognito.PoolOptions{AliasAttributes: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		name := fmt.Sprintf("user%07d", i)
		if err := fake.AddUser(testPool, fakecognito.User{Username: name, Email: name + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perUser := (after.HeapAlloc - before.HeapAlloc) / n
	t.Logf("%d bytes per user", perUser)
	if perUser > 600 {
		t.Errorf("%d bytes per user: a million users would take %d MB", perUser, perUser)
	}
	runtime.KeepAlive(fake)
}
