package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/target"
)

// emailPool lets users sign in with their email: Cognito makes the sub
// their username, and admin calls accept the email as Username.
const emailPool = "us-east-1_EMAIL0001"

func subOf(i int) string   { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
func emailOf(i int) string { return fmt.Sprintf("user%04d@example.com", i) }

// identityFake serves the fake with n users in testPool (username
// user0001.., the email an attribute) and n in emailPool (username = sub).
func identityFake(t *testing.T, opts fakecognito.Options, n int) (*fakecognito.Server, string) {
	t.Helper()
	srv, url := fake(t, opts, 0)
	if err := srv.CreatePool(emailPool, fakecognito.PoolOptions{UsernameAttributes: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := srv.AddUser(testPool, fakecognito.User{Username: userName(i), Sub: subOf(i), Email: emailOf(i),
			Groups: []string{"staff"}}); err != nil {
			t.Fatal(err)
		}
		if err := srv.AddUser(emailPool, fakecognito.User{Username: subOf(1000 + i), Sub: subOf(1000 + i), Email: emailOf(i),
			Groups: []string{"staff"}}); err != nil {
			t.Fatal(err)
		}
	}
	return srv, url
}

func column(name string, n int, value func(int) string) string {
	var b strings.Builder
	b.WriteString(name + "\n")
	for i := 1; i <= n; i++ {
		b.WriteString(value(i) + "\n")
	}
	return b.String()
}

// The three ways a row names a user, over the wire, with the calls each
// costs. The figures are the README's.
func TestIdentity_ResolutionPaths_CallsPerRow(t *testing.T) {
	awsEnv(t)
	const n = 20
	type want struct {
		resolvedBy string
		input      func(i int) string
		username   func(i int) string
	}
	paths := []struct {
		name, pool, csv string
		want            want
	}{
		{name: "username", pool: testPool, csv: column("username", n, userName),
			want: want{username: userName, input: func(int) string { return "" }}},
		{name: "sub", pool: testPool, csv: column("sub", n, subOf),
			want: want{resolvedBy: target.ResolvedSub, input: subOf, username: subOf}},
		{name: "email by ListUsers", pool: testPool, csv: column("email", n, emailOf),
			want: want{resolvedBy: batch.ResolvedListUsers, input: emailOf, username: userName}},
		{name: "email as username", pool: emailPool, csv: column("email", n, emailOf),
			want: want{resolvedBy: batch.ResolvedEmailAsUsername, input: emailOf, username: emailOf}},
	}
	// Calls of each run: the pre-flight (GetCallerIdentity, DescribeUserPool,
	// the account's quota and load, and for delete one read of the first
	// row's user) plus per row.
	expect := func(action, path string) map[string]int {
		c := map[string]int{"GetCallerIdentity": 1, "DescribeUserPool": 1,
			"GetServiceQuota": 1, "GetAWSDefaultServiceQuota": 1, "GetMetricData": 1}
		list := path == "email by ListUsers"
		switch action {
		case "delete":
			c["AdminDeleteUser"] = n
			c["AdminGetUser"] = 1 // pre-flight
			if list {
				c["ListUsers"] = n + 1
			}
		case "disable":
			c["AdminDisableUser"] = n
			c["AdminGetUser"] = n // each row reads first; no separate pre-flight read
			if list {
				c["ListUsers"] = n
			}
		}
		return c
	}
	var table []string
	for _, action := range []string{"disable", "delete"} {
		for _, p := range paths {
			t.Run(action+"/"+p.name, func(t *testing.T) {
				srv, url := identityFake(t, fakecognito.Options{}, n)
				dir := t.TempDir()
				t.Chdir(dir)
				in := writeFile(t, dir, "hr.csv", p.csv)
				args := []string{action, "--user-pool-id", p.pool, "--input", in, "--endpoint-url", url,
					"--rate", "1000", "--read-rate", "1000", "--list-rate", "1000", "--progress", "off"}
				if action == "delete" {
					args = append(args, "--confirm-pool-id", p.pool, "--max-fraction", "1")
				}
				res := cogsweep(t.Context(), t, args...)
				if res.code != ExitOK {
					t.Fatalf("exit %d\n%s", res.code, res.stderr)
				}
				_, recs := readReport(t, filepath.Join(dir, "hr."+action+".report.ndjson"))
				done := report.Disabled
				if action == "delete" {
					done = report.Deleted
				}
				for i := 1; i <= n; i++ {
					r := recs[i]
					if r.Outcome != done || r.ResolvedBy != p.want.resolvedBy || r.Input != p.want.input(i) ||
						r.Username != p.want.username(i) || r.UserPoolID != p.pool {
						t.Fatalf("row %d: %+v", i, r)
					}
				}
				got := map[string]int{}
				for op, c := range srv.Stats().Calls {
					if c > 0 {
						got[op] = c
					}
				}
				if w := expect(action, p.name); !maps.Equal(got, w) {
					t.Fatalf("calls %v, want %v", got, w)
				}
				table = append(table, fmt.Sprintf("%-8s %-18s %v", action, p.name, got))
			})
		}
	}
	t.Logf("calls per run of %d rows:\n%s", n, strings.Join(table, "\n"))
}

// A protected user stays protected whatever names it: an email row is
// checked against the group's members once resolved, and in a pool where
// the email is the Username, against their emails.
func TestIdentity_ProtectedUserNamedByEmail(t *testing.T) {
	for _, pool := range []string{testPool, emailPool} {
		t.Run(pool, func(t *testing.T) {
			awsEnv(t)
			srv, url := identityFake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "hr.csv", column("email", 2, emailOf))
			res := cogsweep(t.Context(), t, "disable", "--user-pool-id", pool, "--input", in, "--endpoint-url", url,
				"--progress", "off", "--protect-group", "staff")
			if res.code != ExitOK {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			_, recs := readReport(t, filepath.Join(dir, "hr.disable.report.ndjson"))
			for row := 1; row <= 2; row++ {
				if recs[row].Outcome != report.Protected {
					t.Fatalf("row %d: %+v", row, recs[row])
				}
			}
			if n := srv.Calls("AdminDisableUser"); n != 0 {
				t.Fatalf("%d disables of protected users", n)
			}
		})
	}
}

func TestIdentity_AmbiguousEmailIsInvalid(t *testing.T) {
	awsEnv(t)
	srv, url := identityFake(t, fakecognito.Options{}, 3)
	// A federated and a native user sharing an email.
	for _, u := range []string{"Google_1171", "twin"} {
		if err := srv.AddUser(testPool, fakecognito.User{Username: u, Email: "twin@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "hr.csv", "email\ntwin@example.com\n"+emailOf(1)+"\n")
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitRowProblems {
		t.Fatalf("exit %d, want %d\n%s", res.code, ExitRowProblems, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "hr.delete.report.ndjson"))
	if r := recs[1]; r.Outcome != report.Invalid || !strings.Contains(r.Message, "matches 2 users") || r.Username != "" {
		t.Fatalf("row 1: %+v", r)
	}
	if recs[2].Outcome != report.Deleted {
		t.Fatalf("row 2: %s", recs[2].Outcome)
	}
	for _, u := range []string{"Google_1171", "twin"} {
		if _, ok := srv.User(testPool, u); !ok {
			t.Fatalf("%s was deleted: an ambiguous email must never be guessed", u)
		}
	}
}

// Quoting in the input cannot widen the ListUsers filter: such values are
// not emails, so they are invalid before any call, and nobody is touched.
func TestIdentity_FilterInjection(t *testing.T) {
	awsEnv(t)
	srv, url := identityFake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	attempts := []string{`a" or email ^= "`, `" ^= "`, `user0001@example.com" or username ^= "`, `\" ^= \"`, `*`, `user0001@example.com\`}
	var b strings.Builder
	for _, a := range attempts {
		line, _ := json.Marshal(map[string]string{"email": a})
		b.Write(append(line, '\n'))
	}
	in := writeFile(t, dir, "hr.ndjson", b.String())
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off")
	if res.code != ExitRowProblems {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	_, recs := readReport(t, filepath.Join(dir, "hr.disable.report.ndjson"))
	for i, a := range attempts {
		if r := recs[i+1]; r.Outcome != report.Invalid || r.Input != a || r.Username != "" {
			t.Errorf("row %d %q: %+v", i+1, a, r)
		}
	}
	if n := srv.Calls("ListUsers") + srv.Calls("AdminGetUser") + srv.Calls("AdminDisableUser"); n != 0 {
		t.Fatalf("%d user calls for rows that are not emails", n)
	}
}

// Each pre-flight failure exits 4 before any write, with one message that
// names what to fix, and leaves every row not_attempted.
func TestIdentity_PreflightFailures(t *testing.T) {
	tests := []struct {
		name   string
		opts   fakecognito.Options
		csv    string
		action []string
		want   []string // in the message
		calls  []string // operations that must not have been called
	}{
		{name: "credentials rejected", opts: fakecognito.Options{RejectCredentials: true}, csv: column("username", 3, userName),
			action: []string{"delete"}, want: []string{"credentials do not work", "InvalidClientTokenId"},
			calls: []string{"DescribeUserPool", "AdminGetUser", "AdminDeleteUser"}},
		{name: "AdminGetUser denied", opts: fakecognito.Options{DenyOps: []string{"AdminGetUser"}}, csv: column("username", 3, userName),
			action: []string{"delete"}, want: []string{"may not call cognito-idp:AdminGetUser", "arn:aws:iam::123456789012:user/cogsweep", "IAM policy"},
			calls: []string{"AdminDeleteUser"}},
		{name: "ListUsers denied for email rows", opts: fakecognito.Options{DenyOps: []string{"ListUsers"}}, csv: column("email", 3, emailOf),
			action: []string{"delete"}, want: []string{"may not call cognito-idp:ListUsers"},
			calls: []string{"AdminGetUser", "AdminDeleteUser"}},
		{name: "DescribeUserPool denied", opts: fakecognito.Options{DenyOps: []string{"DescribeUserPool"}}, csv: column("username", 3, userName),
			action: []string{"enable"}, want: []string{"cognito-idp:DescribeUserPool"},
			calls: []string{"AdminGetUser", "AdminEnableUser"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			srv, url := identityFake(t, tt.opts, 3)
			dir := t.TempDir()
			t.Chdir(dir)
			in := writeFile(t, dir, "hr.csv", tt.csv)
			args := append(tt.action, "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off")
			if tt.action[0] == "delete" {
				args = append(args, "--confirm-pool-id", testPool, "--max-fraction", "1")
			}
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitAborted {
				t.Fatalf("exit %d, want 4\n%s", res.code, res.stderr)
			}
			msg := res.stderr[strings.LastIndex(res.stderr, "cogsweep: "):]
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not name %q", msg, w)
				}
			}
			for _, op := range tt.calls {
				if c := srv.Calls(op); c != 0 {
					t.Errorf("%d %s calls", c, op)
				}
			}
			_, recs := readReport(t, filepath.Join(dir, "hr."+tt.action[0]+".report.ndjson"))
			if len(recs) != 3 || countOutcomes(recs)[report.NotAttempted] != 3 {
				t.Fatalf("report %v, want 3 not_attempted", countOutcomes(recs))
			}
		})
	}
}

// The permission of the action itself cannot be checked without making the
// call (Cognito has no dry run): a missing AdminDeleteUser stops the run at
// its first deletes, and the message names the action.
func TestIdentity_ActionPermissionIsNotPrechecked(t *testing.T) {
	awsEnv(t)
	srv, url := identityFake(t, fakecognito.Options{DenyOps: []string{"AdminDeleteUser"}}, 50)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "hr.csv", column("username", 50, userName))
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1",
		"--input", in, "--endpoint-url", url, "--progress", "off", "--concurrency", "4")
	if res.code != ExitAborted || !strings.Contains(res.stderr, "cognito-idp:AdminDeleteUser") {
		t.Fatalf("exit %d, want 4 naming cognito-idp:AdminDeleteUser\n%s", res.code, res.stderr)
	}
	if c := srv.Calls("AdminDeleteUser"); c > 4 {
		t.Fatalf("%d delete calls, want at most the 4 in flight", c)
	}
}

// The audit record: in the report header, the summary and `status`; a
// guard turned off by an environment variable is a warning at start.
func TestIdentity_Audit(t *testing.T) {
	awsEnv(t)
	_, url := identityFake(t, fakecognito.Options{AccountID: "210987654321"}, 5)
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("COGSWEEP_MAX_FRACTION", "1")
	in := writeFile(t, dir, "hr.csv", column("email", 5, emailOf))
	summary := filepath.Join(dir, "summary.json")
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--input", in,
		"--endpoint-url", url, "--progress", "off", "--log-format", "json", "--summary", summary)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, `"level":"WARN","msg":"a safety guard is turned off by an environment variable","variable":"COGSWEEP_MAX_FRACTION"`) {
		t.Errorf("no warning for COGSWEEP_MAX_FRACTION=1:\n%s", res.stderr)
	}
	h, _ := readReport(t, filepath.Join(dir, "hr.delete.report.ndjson"))
	var s report.Summary
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.EndedAt.Before(s.StartedAt) || s.EndedAt.IsZero() {
		t.Errorf("summary ended_at %v, started_at %v", s.EndedAt, s.StartedAt)
	}
	for name, a := range map[string]map[string]any{"header": h.Audit, "summary": s.Audit} {
		caller, _ := a["caller"].(map[string]any)
		opts, _ := a["options"].(map[string]any)
		mf, _ := opts["max-fraction"].(map[string]any)
		ep, _ := opts["endpoint-url"].(map[string]any)
		rate, _ := opts["rate"].(map[string]any)
		switch {
		case caller["arn"] != "arn:aws:iam::210987654321:user/cogsweep" || caller["account"] != "210987654321":
			t.Errorf("%s: caller %v", name, caller)
		case mf["value"] != "1" || mf["source"] != "env:COGSWEEP_MAX_FRACTION":
			t.Errorf("%s: max-fraction %v", name, mf)
		case ep["value"] != url || ep["source"] != "flag":
			t.Errorf("%s: endpoint-url %v", name, ep)
		case rate["value"] != "20" || rate["source"] != "default":
			t.Errorf("%s: rate %v", name, rate)
		case a["region"] != "us-east-1" || a["action"] != "delete" || a["rows"] != float64(5) || a["input"] != in:
			t.Errorf("%s: %v", name, a)
		case !slices.Equal(toStrings(a["pools"]), []string{testPool}) || !slices.Equal(toStrings(a["guards_off_by_env"]), []string{"COGSWEEP_MAX_FRACTION"}):
			t.Errorf("%s: pools %v, guards off %v", name, a["pools"], a["guards_off_by_env"])
		case a["input_sha256"] == "" || a["fingerprint"] == "" || a["tool_version"] == nil:
			t.Errorf("%s: %v", name, a)
		}
	}

	var out, errb strings.Builder
	code := Main(t.Context(), []string{"status", "--checkpoint", filepath.Join(dir, "hr.delete.checkpoint")},
		Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv})
	if code != ExitOK {
		t.Fatalf("status exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"by arn:aws:iam::210987654321:user/cogsweep (account 210987654321)", "delete in us-east-1",
		"guards turned off by environment: [COGSWEEP_MAX_FRACTION]", "--max-fraction=1 (env:COGSWEEP_MAX_FRACTION)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status does not show %q:\n%s", want, out.String())
		}
	}
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func readBackup(t *testing.T, path string) []backup.Line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []backup.Line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l backup.Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("backup line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func TestIdentity_BackupBeforeDelete(t *testing.T) {
	awsEnv(t)
	srv, url := identityFake(t, fakecognito.Options{}, 10)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "hr.csv", "email\n"+emailOf(1)+"\n"+emailOf(2)+"\nnobody@example.com\n")
	bk := filepath.Join(dir, "deleted-users.ndjson")
	res := cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--input", in,
		"--endpoint-url", url, "--progress", "off", "--backup", bk)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	lines := readBackup(t, bk)
	slices.SortFunc(lines, func(a, b backup.Line) int { return a.Row - b.Row })
	if len(lines) != 2 {
		t.Fatalf("%d backup lines, want 2 (the deleted users)", len(lines))
	}
	for i, l := range lines {
		if l.Row != i+1 || l.Username != userName(i+1) || l.UserPoolID != testPool || !l.Enabled || l.Status != "CONFIRMED" ||
			l.Attributes["email"] != emailOf(i+1) || l.Attributes["sub"] != subOf(i+1) || !slices.Equal(l.Groups, []string{"staff"}) ||
			l.Created.IsZero() {
			t.Fatalf("backup line %+v", l)
		}
	}
	if fi, err := os.Stat(bk); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode: %v %v", fi.Mode(), err)
	}
	// One read and one group listing per row, the pre-flight making none.
	if g, l := srv.Calls("AdminGetUser"), srv.Calls("AdminListGroupsForUser"); g != 2 || l != 2 {
		t.Fatalf("%d AdminGetUser, %d AdminListGroupsForUser; want 2 and 2", g, l)
	}

	res = cogsweep(t.Context(), t, "delete", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--backup", "s3://bucket/x.ndjson")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "local file") {
		t.Fatalf("s3 backup: exit %d\n%s", res.code, res.stderr)
	}
}

// An interrupted delete loses no backup: when each AdminDeleteUser reaches
// the service, its user's line is already in the backup file.
func TestIdentity_BackupIsWrittenBeforeEachDelete(t *testing.T) {
	awsEnv(t)
	srv, _ := identityFake(t, fakecognito.Options{}, 30)
	dir := t.TempDir()
	t.Chdir(dir)
	bk := filepath.Join(dir, "deleted-users.ndjson")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var missing []string
	deletes := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".AdminDeleteUser") {
			body, _ := readAllString(r)
			mu.Lock()
			deletes++
			var req struct{ Username string }
			_ = json.Unmarshal([]byte(body), &req)
			found := false
			for _, l := range readBackupQuiet(bk) {
				found = found || l.Username == req.Username
			}
			if !found {
				missing = append(missing, req.Username)
			}
			if deletes == 10 {
				cancel() // SIGINT in the middle of the run
			}
			mu.Unlock()
			r.Body = newBody(body)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)
	in := writeFile(t, dir, "hr.csv", column("username", 30, userName))
	args := []string{"delete", "--user-pool-id", testPool, "--confirm-pool-id", testPool, "--max-fraction", "1", "--input", in,
		"--endpoint-url", hs.URL, "--progress", "off", "--backup", bk, "--concurrency", "4", "--rate", "1000", "--read-rate", "1000"}
	if res := cogsweep(ctx, t, args...); res.code != ExitInterrupted {
		t.Fatalf("exit %d, want 75\n%s", res.code, res.stderr)
	}
	if res := cogsweep(t.Context(), t, args...); res.code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	if len(missing) > 0 {
		t.Fatalf("deletes sent before their backup line: %v", missing)
	}
	backedUp := map[string]bool{}
	for _, l := range readBackup(t, bk) {
		backedUp[l.Username] = true
	}
	for i := 1; i <= 30; i++ {
		if _, exists := srv.User(testPool, userName(i)); exists {
			t.Fatalf("%s not deleted", userName(i))
		}
		if !backedUp[userName(i)] {
			t.Fatalf("%s deleted without a backup line", userName(i))
		}
	}
}

func readAllString(r *http.Request) (string, error) {
	b, err := io.ReadAll(r.Body)
	return string(b), err
}

func newBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

// readBackupQuiet reads the backup file from inside a handler: a missing
// file is no lines.
func readBackupQuiet(path string) []backup.Line {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []backup.Line
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l backup.Line
		if json.Unmarshal([]byte(line), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}
