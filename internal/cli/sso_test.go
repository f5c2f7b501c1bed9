package cli

import (
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// An SSO profile without a cached token (never logged in, or the cache
// cleared) stops the run before any call with what to type, for both
// shapes of SSO profile: the legacy one (its failure is typed by the SDK)
// and the sso_session one (its token provider fails as plain text).
func TestPreflight_SSOWithoutToken_SaysSSOLogin(t *testing.T) {
	tests := []struct {
		name   string
		config string
	}{
		{name: "legacy sso profile", config: `[profile dev]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Offboarding
region = us-east-1
`},
		{name: "sso_session profile", config: `[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Offboarding
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			home := t.TempDir() // no ~/.aws/sso/cache
			t.Setenv("HOME", home)
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			t.Setenv("AWS_CONFIG_FILE", writeFile(t, home, "config", tt.config))
			srv, url := fake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "hr.csv", usersCSV(1, 3))
			res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in,
				"--endpoint-url", url, "--profile", "dev", "--progress", "off")
			if res.code != ExitAborted {
				t.Fatalf("exit %d, want %d\n%s", res.code, ExitAborted, res.stderr)
			}
			msg := res.stderr[strings.LastIndex(res.stderr, "cogsweep: "):]
			if !strings.Contains(msg, "run `aws sso login --profile dev`") {
				t.Errorf("message %q does not say aws sso login --profile dev", msg)
			}
			for _, op := range []string{"GetCallerIdentity", "DescribeUserPool", "AdminGetUser", "AdminDisableUser"} {
				if c := srv.Calls(op); c != 0 {
					t.Errorf("%d %s calls before the credentials worked", c, op)
				}
			}
		})
	}
}
