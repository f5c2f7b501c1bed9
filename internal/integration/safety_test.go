//go:build integration

package integration

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/report"
)

// TestMoto_Safety runs every guard and mode of README "Safety" with the
// built binary against moto_server: each refusal exits 4 before any user
// changes, protect groups are listed with ListUsersInGroup, and --select
// queries with a ListUsers filter. (--only-disabled-for needs a clock moto
// does not have: internal/cli tests it on the fake.)
func TestMoto_Safety(t *testing.T) {
	m := emulator.StartMoto(t)
	pool := m.CreatePool(t, "safety")
	var all []string
	for i := 1; i <= 50; i++ {
		all = append(all, fmt.Sprintf("emp%04d", i))
	}
	m.CreateUsers(t, pool, all)
	api := m.CognitoClient()
	call := func(what string, fn func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := fn(ctx); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	call("CreateGroup", func(ctx context.Context) error {
		_, err := api.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: &pool, GroupName: aws.String("admins")})
		return err
	})
	for _, name := range all[:3] {
		call("AdminAddUserToGroup", func(ctx context.Context) error {
			_, err := api.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: &pool, Username: aws.String(name), GroupName: aws.String("admins")})
			return err
		})
	}
	c := cli{t: t, dir: t.TempDir(), emu: withSTS{m}}
	var b strings.Builder
	b.WriteString("username\n")
	for _, name := range all[:20] {
		b.WriteString(name + "\n")
	}
	c.write("first20.csv", b.String())
	unchanged := func(step string) {
		t.Helper()
		names := m.ListUsernames(t, pool)
		if len(names) != 50 {
			t.Fatalf("%s: %d users left, want 50", step, len(names))
		}
		for _, name := range all[:20] {
			if enabled, _ := m.UserEnabled(t, pool, name); !enabled {
				t.Fatalf("%s: %s was disabled", step, name)
			}
		}
	}

	t.Run("confirmation", func(t *testing.T) {
		code, out := c.run("", "delete", "--user-pool-id", pool, "--input", "first20.csv", "--max-fraction", "1")
		if code != 4 || !strings.Contains(out, "--confirm-pool-id "+pool) {
			t.Fatalf("exit %d, want 4 asking for --confirm-pool-id\n%s", code, out)
		}
		unchanged("confirmation")
	})
	t.Run("max-fraction", func(t *testing.T) {
		code, out := c.run("", "delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--input", "first20.csv",
			"--report", "fraction.report.ndjson")
		if code != 4 || !strings.Contains(out, "refused by --max-fraction") || !strings.Contains(out, "--max-fraction 0.4") {
			t.Fatalf("exit %d, want 4 by --max-fraction (20 of 50) naming 0.4\n%s", code, out)
		}
		unchanged("max-fraction")
		recs := readRecords(t, filepath.Join(c.dir, "fraction.report.ndjson"))
		for row := 1; row <= 20; row++ {
			if recs[row].Outcome != report.NotAttempted {
				t.Fatalf("row %d: %s, want not_attempted", row, recs[row].Outcome)
			}
		}
	})
	t.Run("max-users", func(t *testing.T) {
		code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "first20.csv", "--max-users", "10",
			"--report", "maxusers.report.ndjson")
		if code != 4 || !strings.Contains(out, "refused by --max-users") {
			t.Fatalf("exit %d, want 4 by --max-users\n%s", code, out)
		}
		unchanged("max-users")
	})
	t.Run("dry run predicts the refusal", func(t *testing.T) {
		// Refused: the verdict, and no user read (every row not_attempted).
		args := []string{"delete", "--dry-run", "--user-pool-id", pool, "--input", "first20.csv", "--protect-group", "admins"}
		code, out := c.run("", args...)
		if code != 4 || !strings.Contains(out, "would be refused by --max-fraction") {
			t.Fatalf("exit %d, want 4 naming the guard\n%s", code, out)
		}
		unchanged("dry run")
		plan := filepath.Join(c.dir, "first20.delete.plan.report.ndjson")
		recs := readRecords(t, plan)
		if len(recs) != 20 || recs[1].Outcome != report.NotAttempted || recs[4].Outcome != report.NotAttempted {
			t.Fatalf("refused plan: %d rows, row 1 %s, row 4 %s; want every row not_attempted", len(recs), recs[1].Outcome, recs[4].Outcome)
		}
		// Within the guard: the whole plan.
		code, out = c.run("", append(args, "--max-fraction", "0.4")...)
		if code != 0 || !strings.Contains(out, "will delete 17 users; 3 protected") {
			t.Fatalf("exit %d, want 0 with the plan\n%s", code, out)
		}
		unchanged("dry run within the guard")
		recs = readRecords(t, plan)
		if len(recs) != 20 || recs[1].Outcome != report.Protected || recs[4].Outcome != "would_delete" {
			t.Fatalf("plan: %d rows, row 1 %s, row 4 %s", len(recs), recs[1].Outcome, recs[4].Outcome)
		}
	})
	t.Run("protect-group that does not exist", func(t *testing.T) {
		code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "first20.csv", "--protect-group", "admns",
			"--report", "typo.report.ndjson")
		if code != 4 || !strings.Contains(out, `group "admns" does not exist`) {
			t.Fatalf("exit %d, want 4 naming the group\n%s", code, out)
		}
		unchanged("protect-group typo")
	})
	t.Run("protect-group and protect-file", func(t *testing.T) {
		c.write("protect.txt", "# break-glass\nemp0004\n")
		code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "first20.csv", "--protect-group", "admins",
			"--protect-file", "protect.txt", "--rate", "200", "--read-rate", "200")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for i, name := range all[:20] {
			enabled, _ := m.UserEnabled(t, pool, name)
			if want := i < 4; enabled != want {
				t.Fatalf("%s: enabled %v, want %v", name, enabled, want)
			}
		}
		recs := readRecords(t, filepath.Join(c.dir, "first20.disable.report.ndjson"))
		for row := 1; row <= 20; row++ {
			want := report.Disabled
			if row <= 4 {
				want = report.Protected
			}
			if recs[row].Outcome != want {
				t.Fatalf("row %d: %s, want %s", row, recs[row].Outcome, want)
			}
		}
	})
	t.Run("select", func(t *testing.T) {
		// 16 users are disabled now; ListUsers' status filter finds them.
		code, out := c.run("", "delete", "--select", `status = "Disabled"`, "--user-pool-id", pool, "--confirm-pool-id", pool,
			"--max-fraction", "0.5", "--rate", "200", "--list-rate", "50")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		left := m.ListUsernames(t, pool)
		if len(left) != 34 {
			t.Fatalf("%d users left, want 34", len(left))
		}
		for _, name := range left {
			if enabled, _ := m.UserEnabled(t, pool, name); !enabled {
				t.Fatalf("%s is disabled and was not selected", name)
			}
		}
		manifests, _ := filepath.Glob(filepath.Join(c.dir, "select-*.delete.manifest.ndjson"))
		if len(manifests) != 1 || manifestLines(t, manifests[0]) != 16 {
			t.Fatalf("manifests %v", manifests)
		}
	})
	t.Run("select with created-before", func(t *testing.T) {
		// Every moto user was created moments ago: none is 7 days old.
		code, out := c.run("", "delete", "--select", `cognito:user_status = "FORCE_CHANGE_PASSWORD"`, "--created-before", "7d",
			"--user-pool-id", pool, "--confirm-pool-id", pool)
		if code != 0 || !strings.Contains(out, "users=0") {
			t.Fatalf("exit %d, want 0 with nobody selected\n%s", code, out)
		}
		if n := len(m.ListUsernames(t, pool)); n != 34 {
			t.Fatalf("%d users left, want 34", n)
		}
	})
	t.Run("select filter moto refuses", func(t *testing.T) {
		code, out := c.run("", "delete", "--select", `shoe_size = "12"`, "--user-pool-id", pool, "--confirm-pool-id", pool)
		if code != 2 || !strings.Contains(out, "refused the filter") {
			t.Fatalf("exit %d, want 2\n%s", code, out)
		}
	})
}

// withSTS points the pre-flight's STS GetCallerIdentity at moto too (moto
// serves STS on the same port).
type withSTS struct{ *emulator.Moto }

func (w withSTS) Env() []string { return append(w.Moto.Env(), "AWS_ENDPOINT_URL_STS="+w.URL()) }

func manifestLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}
