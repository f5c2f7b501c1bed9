package cli

import (
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// --user-pool-id naming a pool of another region than the run's cannot
// succeed for any row that relies on it: a usage error before any call
// (exit 2), not a finished run with every row invalid.
func TestRun_PoolOfAnotherRegionIsAUsageError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    string // AWS_REGION
		source string // named in the message
	}{
		{name: "--region", args: []string{"--region", "eu-west-1"}, env: "us-east-1", source: "--region"},
		{name: "AWS_REGION", env: "eu-west-1", source: "AWS_REGION"},
		{name: "dry run", args: []string{"--region", "eu-west-1", "--dry-run"}, env: "us-east-1", source: "--region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsEnv(t)
			t.Setenv("AWS_REGION", tc.env)
			srv, url := fake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
			args := append([]string{"disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off"}, tc.args...)
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", res.code, ExitUsage, res.stderr)
			}
			for _, want := range []string{testPool, "eu-west-1", tc.source} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("the message does not name %s:\n%s", want, res.stderr)
				}
			}
			if calls := srv.Stats().Calls; len(calls) != 0 {
				t.Errorf("calls made: %v", calls)
			}
		})
	}
}
