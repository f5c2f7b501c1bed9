//go:build integration

// Package integration runs cogsweep's pieces against real third-party
// emulators (moto, cognito-local). Run with
//
//	go test -race -tags integration ./internal/integration/...
//
// after `npm ci` in scripts/emulators; moto_server must be on PATH.
package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// password satisfies both emulators' default password policy.
const password = "Passw0rd!x"

// missingPool has a valid pool id shape but names no pool.
const missingPool = "us-east-1_NoSuchPool0"

func userNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return names
}

// wantDecision checks how retry classifies err for kind.
func wantDecision(t *testing.T, err error, kind retry.Kind, code string, class retry.Class) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want API error code %s", err, code)
	}
	d := retry.Classify(err, kind)
	if d.Class != class || d.Code != code {
		t.Fatalf("Classify(%v) = %s/%s, want %s/%s", err, d.Class, d.Code, class, code)
	}
	if d.MaybeExecuted {
		t.Errorf("Classify(%v): MaybeExecuted for a 4xx refusal", err)
	}
}

func TestAdapter_Moto(t *testing.T) {
	m := emulator.StartMoto(t)
	c := cognito.New(m.AWSConfig(), m.URL())

	// Subtests run in parallel, each in its own pool; Reset runs after them.
	t.Run("calls", func(t *testing.T) {
		t.Run("GetUser", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "get", emulator.CustomAttributes("team"))
			m.CreateUser(t, pool, "alice", "", map[string]string{"email": "alice@example.org", "custom:team": "red"})

			u, reqID, err := c.GetUser(t.Context(), pool, "alice")
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if reqID == "" {
				t.Error("GetUser: no request id")
			}
			if u.Username != "alice" || !u.Enabled || u.Status != "FORCE_CHANGE_PASSWORD" {
				t.Errorf("GetUser = %q enabled=%v status=%q, want alice enabled FORCE_CHANGE_PASSWORD", u.Username, u.Enabled, u.Status)
			}
			if u.Sub == "" || u.Sub != u.Attributes["sub"] {
				t.Errorf("Sub = %q, attributes sub = %q", u.Sub, u.Attributes["sub"])
			}
			if u.Attributes["email"] != "alice@example.org" || u.Attributes["custom:team"] != "red" {
				t.Errorf("Attributes = %v", u.Attributes)
			}
			if u.Created.IsZero() || u.Modified.IsZero() {
				t.Errorf("Created %v, Modified %v: want both set", u.Created, u.Modified)
			}
		})

		t.Run("DisableEnableUser", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "disable")
			m.CreateUsers(t, pool, []string{"bob"})
			ctx := t.Context()

			// Disabling twice succeeds, as in Cognito: a resumed run may
			// repeat the call.
			for range 2 {
				if _, err := c.DisableUser(ctx, pool, "bob"); err != nil {
					t.Fatalf("DisableUser: %v", err)
				}
				if enabled, exists := m.UserEnabled(t, pool, "bob"); enabled || !exists {
					t.Fatalf("after DisableUser: enabled=%v exists=%v", enabled, exists)
				}
			}
			if _, err := c.EnableUser(ctx, pool, "bob"); err != nil {
				t.Fatalf("EnableUser: %v", err)
			}
			if enabled, exists := m.UserEnabled(t, pool, "bob"); !enabled || !exists {
				t.Fatalf("after EnableUser: enabled=%v exists=%v", enabled, exists)
			}
		})

		t.Run("DeleteUser", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "delete")
			m.CreateUsers(t, pool, []string{"carol", "dave"})
			if _, err := c.DeleteUser(t.Context(), pool, "carol"); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if got := m.ListUsernames(t, pool); !slices.Equal(got, []string{"dave"}) {
				t.Fatalf("after DeleteUser: users %v, want [dave]", got)
			}
			// Deleting again is the not_found outcome, not a failure.
			_, err := c.DeleteUser(t.Context(), pool, "carol")
			wantDecision(t, err, retry.IAM, "UserNotFoundException", retry.NotFound)
		})

		t.Run("DeleteAttributes", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "attrs", emulator.CustomAttributes("team", "phone"))
			m.CreateUser(t, pool, "erin", "", map[string]string{
				"email": "erin@example.org", "custom:team": "red", "custom:phone": "1",
			})
			if _, err := c.DeleteAttributes(t.Context(), pool, "erin", []string{"custom:team", "custom:phone"}); err != nil {
				t.Fatalf("DeleteAttributes: %v", err)
			}
			attrs := m.UserAttributes(t, pool, "erin")
			if _, ok := attrs["custom:team"]; ok {
				t.Errorf("custom:team still set: %v", attrs)
			}
			if _, ok := attrs["custom:phone"]; ok {
				t.Errorf("custom:phone still set: %v", attrs)
			}
			if attrs["email"] != "erin@example.org" {
				t.Errorf("email changed: %v", attrs)
			}
		})

		t.Run("GlobalSignOut", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "signout")
			client := m.CreateUserPoolClient(t, pool)
			m.CreateUser(t, pool, "frank", password, nil)
			token := m.AccessToken(t, pool, client, "frank", password)
			api := m.CognitoClient()
			ctx := t.Context()

			// The token works before, so its rejection after is the sign-out.
			if _, err := api.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(token)}); err != nil {
				t.Fatalf("GetUser with a fresh token: %v", err)
			}
			if _, err := c.GlobalSignOut(ctx, pool, "frank"); err != nil {
				t.Fatalf("GlobalSignOut: %v", err)
			}
			_, err := api.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(token)})
			wantDecision(t, err, retry.Token, "NotAuthorizedException", retry.Permanent)
			if strings.Contains(err.Error(), token) {
				t.Error("error text contains the access token")
			}
		})

		t.Run("DescribePool", func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name     string
				opts     []emulator.PoolOption
				users    []string
				wantAttr []string
			}{
				{name: "plain", users: []string{"gina", "hank"}},
				{name: "email", opts: []emulator.PoolOption{emulator.EmailUsernames()},
					users: []string{"gina@example.org"}, wantAttr: []string{"email"}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					pool := m.CreatePool(t, "describe-"+tt.name, tt.opts...)
					m.CreateUsers(t, pool, tt.users)
					p, err := c.DescribePool(t.Context(), pool)
					if err != nil {
						t.Fatalf("DescribePool: %v", err)
					}
					if p.ID != pool || p.Name != "describe-"+tt.name {
						t.Errorf("pool %q named %q, want %q named %q", p.ID, p.Name, pool, "describe-"+tt.name)
					}
					if p.EstimatedUsers != len(tt.users) {
						t.Errorf("EstimatedUsers = %d, want %d", p.EstimatedUsers, len(tt.users))
					}
					if !slices.Equal(p.UsernameAttributes, tt.wantAttr) {
						t.Errorf("UsernameAttributes = %v, want %v", p.UsernameAttributes, tt.wantAttr)
					}
				})
			}
		})

		t.Run("ListUsersPage", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "list")
			names := userNames("user", 130)
			m.CreateUsers(t, pool, names)
			ctx := t.Context()

			var got []string
			var sizes []int
			token := ""
			for {
				users, next, err := c.ListUsersPage(ctx, pool, "", token, 60)
				if err != nil {
					t.Fatalf("ListUsersPage after %d users: %v", len(got), err)
				}
				sizes = append(sizes, len(users))
				for _, u := range users {
					got = append(got, aws.ToString(u.Username))
				}
				if next == "" {
					break
				}
				if len(sizes) > 10 {
					t.Fatalf("more than 10 pages for 130 users: sizes %v", sizes)
				}
				token = next
			}
			slices.Sort(got)
			if !slices.Equal(got, names) {
				t.Errorf("listed %d users, want %d (page sizes %v)", len(got), len(names), sizes)
			}
			if !slices.Equal(sizes, []int{60, 60, 10}) {
				t.Errorf("page sizes %v, want [60 60 10]", sizes)
			}
			if all := m.ListUsernames(t, pool); !slices.Equal(all, names) {
				t.Errorf("ListUsernames: %d users, want %d", len(all), len(names))
			}

			disabled := []string{names[3], names[70], names[129]}
			for _, n := range disabled {
				if _, err := c.DisableUser(ctx, pool, n); err != nil {
					t.Fatalf("DisableUser %s: %v", n, err)
				}
			}
			users, next, err := c.ListUsersPage(ctx, pool, `status = "Disabled"`, "", 60)
			if err != nil {
				t.Fatalf("ListUsersPage with a filter: %v", err)
			}
			var filtered []string
			for _, u := range users {
				filtered = append(filtered, aws.ToString(u.Username))
			}
			slices.Sort(filtered)
			if !slices.Equal(filtered, disabled) || next != "" {
				t.Errorf("disabled users %v (next %q), want %v", filtered, next, disabled)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			t.Parallel()
			pool := m.CreatePool(t, "errors")
			type call func(ctx context.Context, pool, user string) error
			tests := []struct {
				name string
				call call
				// perUser is false for pool-level calls, which have no
				// missing-user case.
				perUser bool
			}{
				{name: "GetUser", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, _, err := c.GetUser(ctx, pool, user)
					return err
				}},
				{name: "DisableUser", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, err := c.DisableUser(ctx, pool, user)
					return err
				}},
				{name: "EnableUser", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, err := c.EnableUser(ctx, pool, user)
					return err
				}},
				{name: "DeleteUser", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, err := c.DeleteUser(ctx, pool, user)
					return err
				}},
				{name: "GlobalSignOut", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, err := c.GlobalSignOut(ctx, pool, user)
					return err
				}},
				{name: "DeleteAttributes", perUser: true, call: func(ctx context.Context, pool, user string) error {
					_, err := c.DeleteAttributes(ctx, pool, user, []string{"custom:team"})
					return err
				}},
				{name: "DescribePool", call: func(ctx context.Context, pool, _ string) error {
					_, err := c.DescribePool(ctx, pool)
					return err
				}},
				{name: "ListUsersPage", call: func(ctx context.Context, pool, _ string) error {
					_, _, err := c.ListUsersPage(ctx, pool, "", "", 60)
					return err
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.perUser {
						err := tt.call(t.Context(), pool, "nobody")
						wantDecision(t, err, retry.IAM, "UserNotFoundException", retry.NotFound)
					}
					err := tt.call(t.Context(), missingPool, "nobody")
					wantDecision(t, err, retry.IAM, "ResourceNotFoundException", retry.PoolMissing)
				})
			}
		})
	})

	t.Run("Reset", func(t *testing.T) {
		pool := m.CreatePool(t, "reset")
		m.Reset(t)
		_, err := c.DescribePool(t.Context(), pool)
		wantDecision(t, err, retry.IAM, "ResourceNotFoundException", retry.PoolMissing)
	})
}

func TestAdapter_CognitoLocal(t *testing.T) {
	cl := emulator.StartCognitoLocal(t)
	c := cognito.New(cl.AWSConfig(), cl.URL())
	// cognito-local serves one writer at a time: these subtests are serial.
	pool := cl.CreatePool(t, "tokens", emulator.CustomAttributes("team"))
	client := cl.CreateUserPoolClient(t, pool)

	t.Run("SelfDeleteAttributes", func(t *testing.T) {
		cl.CreateUser(t, pool, "ivy", password, map[string]string{"email": "ivy@example.org", "custom:team": "red"})
		token := cl.AccessToken(t, pool, client, "ivy", password)
		if _, err := c.SelfDeleteAttributes(t.Context(), token, []string{"custom:team"}); err != nil {
			t.Fatalf("SelfDeleteAttributes: %v", err)
		}
		attrs := cl.UserAttributes(t, pool, "ivy")
		if _, ok := attrs["custom:team"]; ok {
			t.Errorf("custom:team still set: %v", attrs)
		}
		if attrs["email"] != "ivy@example.org" {
			t.Errorf("email changed: %v", attrs)
		}
	})

	t.Run("SelfDelete", func(t *testing.T) {
		cl.CreateUsers(t, pool, []string{"bystander"})
		cl.CreateUser(t, pool, "jack", password, nil)
		token := cl.AccessToken(t, pool, client, "jack", password)
		if _, err := c.SelfDelete(t.Context(), token); err != nil {
			t.Fatalf("SelfDelete: %v", err)
		}
		if _, exists := cl.UserEnabled(t, pool, "jack"); exists {
			t.Error("jack still exists after SelfDelete")
		}
		if _, exists := cl.UserEnabled(t, pool, "bystander"); !exists {
			t.Error("SelfDelete removed another user")
		}

		// The token of a user who no longer exists is refused: permanent
		// for this row, while the same code on an IAM call stops the run.
		_, err := c.SelfDelete(t.Context(), token)
		wantDecision(t, err, retry.Token, "NotAuthorizedException", retry.Permanent)
		if d := retry.Classify(err, retry.IAM); d.Class != retry.Fatal {
			t.Errorf("Classify(NotAuthorizedException, IAM) = %s, want fatal", d.Class)
		}
		if strings.Contains(err.Error(), token) {
			t.Error("error text contains the access token")
		}
		_, err = c.SelfDeleteAttributes(t.Context(), token, []string{"email"})
		wantDecision(t, err, retry.Token, "NotAuthorizedException", retry.Permanent)
	})

	t.Run("SelfDeleteWithoutCredentials", func(t *testing.T) {
		// Token calls are anonymous: they must work with no IAM
		// credentials at all.
		cfg := cl.AWSConfig()
		cfg.Credentials = nil
		anon := cognito.New(cfg, cl.URL())
		cl.CreateUser(t, pool, "kate", password, map[string]string{"custom:team": "blue"})
		token := cl.AccessToken(t, pool, client, "kate", password)
		if _, err := anon.SelfDeleteAttributes(t.Context(), token, []string{"custom:team"}); err != nil {
			t.Fatalf("SelfDeleteAttributes without credentials: %v", err)
		}
		if _, err := anon.SelfDelete(t.Context(), token); err != nil {
			t.Fatalf("SelfDelete without credentials: %v", err)
		}
		if _, exists := cl.UserEnabled(t, pool, "kate"); exists {
			t.Error("kate still exists after SelfDelete")
		}
	})

	t.Run("MalformedToken", func(t *testing.T) {
		// cognito-local answers InvalidParameterException where Cognito
		// answers NotAuthorizedException; both are permanent for the row.
		_, err := c.SelfDelete(t.Context(), "not-a-token")
		wantDecision(t, err, retry.Token, "InvalidParameterException", retry.Permanent)
	})
}
