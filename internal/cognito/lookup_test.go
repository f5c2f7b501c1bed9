package cognito_test

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

func TestEmailFilter(t *testing.T) {
	tests := []struct {
		name, email, want string
	}{
		{name: "plain", email: "ann@example.com", want: `email = "ann@example.com"`},
		{name: "apostrophe kept", email: "o'brien@example.com", want: `email = "o'brien@example.com"`},
		{name: "quote escaped", email: `a" or email ^= "`, want: `email = "a\" or email ^= \""`},
		{name: "backslash escaped first", email: `a\" or x`, want: `email = "a\\\" or x"`},
		{name: "trailing backslash cannot eat the closing quote", email: `a\`, want: `email = "a\\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cognito.EmailFilter(tt.email); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

const pool = "us-east-1_LOOKUP001"

// client serves a fake with users and returns the adapter pointed at it.
func client(t *testing.T, users ...fakecognito.User) (*fakecognito.Server, *cognito.Client) {
	t.Helper()
	srv := fakecognito.New(fakecognito.Options{})
	if err := srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := srv.AddUser(pool, u); err != nil {
			t.Fatal(err)
		}
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOOKUP", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		// Without the workaround for smithy-go's request-body race, about
		// 2 in 300 runs under -race lost page 2 to "use of closed network
		// connection".
		HTTPClient: cognito.PlainBody(nil),
	}
	return srv, cognito.New(cfg, hs.URL)
}

// Input quoting cannot change the filter: an injection attempt is one
// exact value that matches nobody (not every user, not a parse error), and
// an email that really holds a quote is found exactly.
func TestClient_FindByEmail(t *testing.T) {
	_, c := client(t,
		fakecognito.User{Username: "ann", Email: "ann@example.com"},
		fakecognito.User{Username: "ann-google", Email: "twin@example.com"},
		fakecognito.User{Username: "ann-native", Email: "twin@example.com"},
		fakecognito.User{Username: "odd", Email: `we"ird\@example.com`},
	)
	tests := []struct {
		name, email string
		want        []string
	}{
		{name: "one", email: "ann@example.com", want: []string{"ann"}},
		{name: "two share it", email: "twin@example.com", want: []string{"ann-google", "ann-native"}},
		{name: "none", email: "bob@example.com"},
		{name: "prefix injection", email: `a" or email ^= "`},
		{name: "prefix injection, other operator", email: `" ^= "`},
		{name: "quote and backslash in a real value", email: `we"ird\@example.com`, want: []string{"odd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, _, err := c.FindByEmail(t.Context(), pool, tt.email, "")
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || next != "" {
				t.Fatalf("got %q next %q, want %q", got, next, tt.want)
			}
		})
	}
}

func TestClient_UserGroupsFollowsPages(t *testing.T) {
	var groups []string
	for i := range 130 {
		groups = append(groups, "g"+string(rune('a'+i/26))+string(rune('a'+i%26)))
	}
	_, c := client(t, fakecognito.User{Username: "ann", Groups: groups})
	got, _, err := c.UserGroups(t.Context(), pool, "ann")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, groups) {
		t.Fatalf("%d groups, want %d", len(got), len(groups))
	}
}

func TestClient_CallerIdentity(t *testing.T) {
	srv, c := client(t)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	got, err := c.CallerIdentity(t.Context(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got.ARN != srv.CallerARN() || got.Account != "123456789012" || got.UserID != "AIDAAKIDLOOKUP" {
		t.Fatalf("%+v", got)
	}
}
