//go:build integration

package integration

import (
	"fmt"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// restoredUser is what a restore must bring back of a user.
type restoredUser struct {
	enabled bool
	attrs   map[string]string // sub left out
	groups  []string
	sub     string
}

// TestRestore_Emulators deletes 20 users with --backup (some in groups, one
// disabled, with a custom attribute) on moto and on cognito-local, restores
// them with the built binary, and compares every attribute but sub, the
// groups and the enabled state with what they were; a second restore
// changes nothing.
func TestRestore_Emulators(t *testing.T) {
	t.Run("moto", func(t *testing.T) { restoreRoundTrip(t, emulator.StartMoto(t).Cognito) })
	// cognito-local's pool ids say "local_": the runs' region must agree.
	// It serves no STS: the pre-flight's GetCallerIdentity goes to the fake.
	t.Run("cognito-local", func(t *testing.T) {
		sts := httptest.NewServer(fakecognito.New(fakecognito.Options{}))
		t.Cleanup(sts.Close)
		restoreRoundTrip(t, emulator.StartCognitoLocal(t).Cognito, "--region", "local", "--sts-endpoint-url", sts.URL)
	})
}

func restoreRoundTrip(t *testing.T, emu *emulator.Cognito, extra ...string) {
	const n = 20
	api := emu.CognitoClient()
	pool := emu.CreatePool(t, "restore", emulator.CustomAttributes("dept"))
	for _, g := range []string{"staff", "admins"} {
		if _, err := api.CreateGroup(t.Context(), &cip.CreateGroupInput{UserPoolId: &pool, GroupName: aws.String(g)}); err != nil {
			t.Fatalf("create group %s: %v", g, err)
		}
	}
	var csv strings.Builder
	csv.WriteString("username\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user%02d", i)
		csv.WriteString(name + "\n")
		emu.CreateUser(t, pool, name, "", map[string]string{"email": name + "@example.com", "custom:dept": fmt.Sprint("d", i%3)})
		for _, g := range groupsOf(i) {
			if _, err := api.AdminAddUserToGroup(t.Context(), &cip.AdminAddUserToGroupInput{UserPoolId: &pool, Username: &name, GroupName: aws.String(g)}); err != nil {
				t.Fatalf("add %s to %s: %v", name, g, err)
			}
		}
	}
	if _, err := api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: &pool, Username: aws.String("user03")}); err != nil {
		t.Fatal(err)
	}
	before := snapshotUsers(t, emu, pool, n)

	dir := t.TempDir()
	c := cli{t: t, dir: dir, emu: emu}
	c.write("leavers.csv", csv.String())
	if code, out := c.run("", append([]string{"delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "leavers.csv", "--backup", "leavers.backup.ndjson"}, extra...)...); code != 0 {
		t.Fatalf("delete exit %d\n%s", code, out)
	}
	if left := emu.ListUsernames(t, pool); len(left) != 0 {
		t.Fatalf("users left after the delete: %q", left)
	}
	if code, out := c.run("", append([]string{"restore", "--from-backup", "leavers.backup.ndjson"}, extra...)...); code != 0 {
		t.Fatalf("restore exit %d\n%s", code, out)
	}
	recs := readRecords(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	if len(recs) != n {
		t.Fatalf("restore report has %d rows, want %d", len(recs), n)
	}
	after := snapshotUsers(t, emu, pool, n)
	for _, r := range recs {
		was, now := before[r.Username], after[r.Username]
		if r.Outcome != report.Restored {
			t.Errorf("%s: %s (%s)", r.Username, r.Outcome, r.Message)
			continue
		}
		if now.enabled != was.enabled || !maps.Equal(now.attrs, was.attrs) || !slices.Equal(now.groups, was.groups) {
			t.Errorf("%s restored as %+v, was %+v", r.Username, now, was)
		}
		if r.OldSub != was.sub || r.NewSub != now.sub || now.sub == was.sub {
			t.Errorf("%s: report subs %s -> %s, were %s -> %s", r.Username, r.OldSub, r.NewSub, was.sub, now.sub)
		}
	}

	if code, out := c.run("", append([]string{"restore", "--from-backup", "leavers.backup.ndjson", "--restart"}, extra...)...); code != 0 {
		t.Fatalf("second restore exit %d\n%s", code, out)
	}
	recs = readRecords(t, filepath.Join(dir, "leavers.backup.restore.report.ndjson"))
	for _, r := range recs {
		if r.Outcome != report.AlreadyExists {
			t.Errorf("second restore, %s: %s, want already_exists", r.Username, r.Outcome)
		}
	}
	if again := snapshotUsers(t, emu, pool, n); !maps.EqualFunc(again, after, func(a, b restoredUser) bool {
		return a.enabled == b.enabled && a.sub == b.sub && maps.Equal(a.attrs, b.attrs) && slices.Equal(a.groups, b.groups)
	}) {
		t.Error("the second restore changed users")
	}
}

func groupsOf(i int) []string {
	switch {
	case i%4 == 0:
		return []string{"admins", "staff"}
	case i%2 == 0:
		return []string{"staff"}
	}
	return nil
}

func snapshotUsers(t *testing.T, emu *emulator.Cognito, pool string, n int) map[string]restoredUser {
	t.Helper()
	out := map[string]restoredUser{}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("user%02d", i)
		enabled, exists := emu.UserEnabled(t, pool, name)
		if !exists {
			continue
		}
		attrs := emu.UserAttributes(t, pool, name)
		u := restoredUser{enabled: enabled, sub: attrs["sub"], attrs: maps.Clone(attrs)}
		delete(u.attrs, "sub")
		g, err := emu.CognitoClient().AdminListGroupsForUser(t.Context(), &cip.AdminListGroupsForUserInput{UserPoolId: &pool, Username: &name})
		if err != nil {
			t.Fatalf("groups of %s: %v", name, err)
		}
		for _, gr := range g.Groups {
			u.groups = append(u.groups, aws.ToString(gr.GroupName))
		}
		slices.Sort(u.groups)
		out[name] = u
	}
	return out
}

// On moto, restore works with S3 as the other actions do: --input from
// S3 picks users of a local backup, and the report and checkpoint are in
// S3; the same command again finds the finished run and ends the same.
func TestMoto_S3_Restore(t *testing.T) {
	r := newS3Rig(t, 6, 4)
	dir := t.TempDir()
	cmd, out := r.command(dir, "delete", "--user-pool-id", r.pool, "--confirm-pool-id", r.pool, "--max-fraction", "1",
		"--input", "s3://"+testBucket+"/hr/leavers.csv", "--report", "s3://"+testBucket+"/runs/leavers.delete.report.ndjson",
		"--backup", "leavers.backup.ndjson")
	if code := exitCode(t, cmd.Run()); code != 0 {
		t.Fatalf("delete exit %d\n%s", code, out)
	}
	r.put("hr/wrongly-deleted.csv", "username\n"+r.users[1]+"\n"+r.users[5]+"\n")
	args := []string{"restore", "--from-backup", "leavers.backup.ndjson", "--input", "s3://" + testBucket + "/hr/wrongly-deleted.csv",
		"--report", "s3://" + testBucket + "/runs/wrongly-deleted.restore.report.ndjson"}
	for i := range 2 {
		cmd, out = r.command(dir, args...)
		if code := exitCode(t, cmd.Run()); code != 3 { // users[5] was never deleted: not_in_backup
			t.Fatalf("restore %d: exit %d, want 3\n%s", i, code, out)
		}
	}
	recs := r.records(r.readBack("runs/wrongly-deleted.restore.report.ndjson"))
	if len(recs) != 2 || recs[1].Outcome != report.Restored || recs[2].Outcome != report.NotInBackup {
		t.Fatalf("report: %+v", recs)
	}
	if _, exists := r.m.UserEnabled(t, r.pool, r.users[1]); !exists {
		t.Errorf("%s not restored", r.users[1])
	}
	if _, exists := r.m.UserEnabled(t, r.pool, r.users[0]); exists {
		t.Errorf("%s restored though --input did not name it", r.users[0])
	}
}
