package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/scenario"
)

// fakeBackend is the wire-level fake as a scenario backend. Setup goes
// around cogsweep: seeding directly, admin calls through the SDK.
type fakeBackend struct {
	srv *fakecognito.Server
	url string
	api *cip.Client
}

func newFakeBackend(t *testing.T, opts fakecognito.Options) *fakeBackend {
	t.Helper()
	srv := fakecognito.New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL) // the pre-flight's GetCallerIdentity
	api := cip.NewFromConfig(emulator.AWSConfig(), func(o *cip.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	return &fakeBackend{srv: srv, url: hs.URL, api: api}
}

func (b *fakeBackend) CreatePool(t testing.TB, _ []string) string {
	t.Helper()
	// The fake takes any custom: attribute; it has no schema to declare.
	const pool = "us-east-1_SCENARIO1"
	if err := b.srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	return pool
}

func (b *fakeBackend) CreateUser(t testing.TB, pool string, u scenario.User) {
	t.Helper()
	fu := fakecognito.User{Username: u.Username, Attributes: map[string]string{}}
	for k, v := range u.Attributes {
		if k == "email" {
			fu.Email = v
		} else {
			fu.Attributes[k] = v
		}
	}
	if err := b.srv.AddUser(pool, fu); err != nil {
		t.Fatal(err)
	}
}

func (b *fakeBackend) Token(_ testing.TB, pool, username string) string {
	return b.srv.IssueToken(pool, username)
}

func (b *fakeBackend) Disable(t testing.TB, pool, username string) {
	t.Helper()
	if _, err := b.api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: &pool, Username: &username}); err != nil {
		t.Fatalf("disable %s: %v", username, err)
	}
}

func (b *fakeBackend) Delete(t testing.TB, pool, username string) {
	t.Helper()
	if _, err := b.api.AdminDeleteUser(t.Context(), &cip.AdminDeleteUserInput{UserPoolId: &pool, Username: &username}); err != nil {
		t.Fatalf("delete %s: %v", username, err)
	}
}

func (b *fakeBackend) User(_ testing.TB, pool, username string) (bool, bool, map[string]string) {
	u, ok := b.srv.User(pool, username)
	if !ok {
		return false, false, nil
	}
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	if u.Email != "" {
		attrs["email"] = u.Email
	}
	return true, !u.Disabled, attrs
}

// TokenValid asks the fake to authenticate the token with a token call that
// changes nothing (no attribute named): the fake has no GetUser.
func (b *fakeBackend) TokenValid(t testing.TB, token string) bool {
	_, err := b.api.DeleteUserAttributes(t.Context(), &cip.DeleteUserAttributesInput{AccessToken: &token, UserAttributeNames: []string{}})
	return err == nil
}

// fakeRunner runs cogsweep in-process in c.Dir against the fake.
func fakeRunner(url string) scenario.Runner {
	return func(tb testing.TB, c scenario.Command) (int, string) {
		t := tb.(*testing.T)
		t.Chdir(c.Dir)
		if c.NoCredentials {
			noCredentials(t)
		}
		args := append(append([]string(nil), c.Args...), "--endpoint-url", url, "--progress", "off", "--log-format", "text")
		res := cogsweep(t.Context(), t, args...)
		return res.code, res.stdout + res.stderr
	}
}

// noCredentials removes every AWS credential from the environment (until the
// test ends): token calls must need none.
func noCredentials(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestActions_Scenarios plays every fixtures/actions scenario against the
// fake; internal/integration plays the same files against moto and
// cognito-local, so both end in the same state.
func TestActions_Scenarios(t *testing.T) {
	for _, sc := range scenario.Load(t) {
		t.Run(sc.Name, func(t *testing.T) {
			awsEnv(t)
			b := newFakeBackend(t, fakecognito.Options{Seed: 5})
			scenario.Run(t, sc, b, fakeRunner(b.url))
		})
	}
}

// TestActions_TokensNeverWritten runs self-delete and token
// delete-attributes with known tokens, good and bad, read from stdin, and
// greps every file the runs leave and every byte they print for each token
// and each of its parts (the payload alone carries the claims).
func TestActions_TokensNeverWritten(t *testing.T) {
	awsEnv(t)
	noCredentials(t)
	b := newFakeBackend(t, fakecognito.Options{Seed: 9, RejectCredentials: true, TokenTTL: time.Hour})
	const pool = "us-east-1_SECRETS1"
	if err := b.srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"amy", "bob", "carl", "dora", "erin", "fay"} {
		if err := b.srv.AddUser(pool, fakecognito.User{Username: name, Attributes: map[string]string{"custom:team": "red", "name": name}}); err != nil {
			t.Fatal(err)
		}
	}
	expired := map[string]string{"carl": b.srv.IssueToken(pool, "carl"), "fay": b.srv.IssueToken(pool, "fay")}
	b.srv.Advance(2 * time.Hour)
	good := map[string]string{}
	for _, name := range []string{"amy", "bob", "dora", "erin"} {
		good[name] = b.srv.IssueToken(pool, name)
	}
	revokedDora := good["dora"]
	// A global sign-out revokes dora's token (the fake accepts this admin
	// call from the setup client, which has its own credentials).
	b.srv.SetRejectCredentials(false)
	if _, err := b.api.AdminUserGlobalSignOut(t.Context(), &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(pool), Username: aws.String("dora")}); err != nil {
		t.Fatal(err)
	}
	b.srv.SetRejectCredentials(true)
	unknown := b.srv.IssueToken(pool, "nobody")
	all := []string{good["amy"], good["bob"], good["erin"], expired["carl"], expired["fay"], revokedDora, unknown}

	dir, tmp := t.TempDir(), t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", tmp) // the stdin spool goes here

	run := func(stdin string, args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		no := false
		args = append(args, "--endpoint-url", b.url, "--progress", "off")
		code := Main(t.Context(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no})
		return result{code, out.String(), errb.String()}
	}
	// self-delete: CSV on stdin, JSON logs.
	csvIn := "access_token\n" + good["amy"] + "\n" + expired["carl"] + "\n" + revokedDora + "\n" + unknown + "\n"
	sd := run(csvIn, "self-delete", "--input", "-", "--format", "csv", "--summary", "self-delete.summary.json", "--log-format", "json")
	// delete-attributes with tokens: NDJSON on stdin, text logs.
	ndIn := `{"access_token":"` + good["bob"] + `"}` + "\n" + `{"access_token":"` + expired["fay"] + `"}` + "\n" + `{"access_token":"` + good["erin"] + `"}` + "\n"
	da := run(ndIn, "delete-attributes", "--attributes", "custom:team", "--input", "-", "--format", "ndjson", "--summary", "attrs.summary.json", "--log-format", "text")

	if sd.code != ExitRowProblems || da.code != ExitRowProblems {
		t.Fatalf("exit %d and %d, want %d (some tokens are bad)\n%s\n%s", sd.code, da.code, ExitRowProblems, sd.stderr, da.stderr)
	}
	if n := b.srv.Calls("GetCallerIdentity") + b.srv.Calls("DescribeUserPool") + b.srv.Calls("AdminGetUser"); n != 0 {
		t.Errorf("%d IAM calls in token-only runs, want none", n)
	}
	_, recs := readReport(t, filepath.Join(dir, "stdin.self-delete.report.ndjson"))
	want := []struct {
		tok, user string
		out       report.Outcome
		code      string
	}{
		{good["amy"], "amy", report.SelfDeleted, ""},
		{expired["carl"], "carl", report.Failed, "NotAuthorizedException"},
		{revokedDora, "dora", report.Failed, "NotAuthorizedException"},
		{unknown, "nobody", report.Failed, "NotAuthorizedException"},
	}
	for i, w := range want {
		r := recs[i+1]
		if r.Outcome != w.out || r.ErrorCode != w.code || r.Transient {
			t.Errorf("self-delete row %d: %s %s transient %v (%s), want %s %s permanent", i+1, r.Outcome, r.ErrorCode, r.Transient, r.Message, w.out, w.code)
		}
		if r.TokenSHA256 != input.TokenFingerprint(w.tok) || r.Username != w.user || r.ResolvedBy != "token_claim" {
			t.Errorf("self-delete row %d identified as %q %q by %q, want the token's fingerprint and claim %q", i+1, r.TokenSHA256, r.Username, r.ResolvedBy, w.user)
		}
	}
	if _, ok := b.srv.User(pool, "amy"); ok {
		t.Error("amy still exists after self-delete")
	}
	_, recs = readReport(t, filepath.Join(dir, "stdin.delete-attributes.report.ndjson"))
	for row, o := range map[int]report.Outcome{1: report.AttributesDeleted, 2: report.Failed, 3: report.AttributesDeleted} {
		if recs[row].Outcome != o {
			t.Errorf("delete-attributes row %d: %s, want %s", row, recs[row].Outcome, o)
		}
	}
	if u, _ := b.srv.User(pool, "bob"); u.Attributes["custom:team"] != "" || u.Attributes["name"] != "bob" {
		t.Errorf("bob's attributes after the scrub: %v", u.Attributes)
	}

	// Every file left anywhere, and every byte printed.
	spill := map[string]string{"self-delete stdout": sd.stdout, "self-delete stderr": sd.stderr,
		"delete-attributes stdout": da.stdout, "delete-attributes stderr": da.stderr}
	files := 0
	for _, root := range []string{dir, tmp} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			spill[p] = string(data)
			files++
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 6 { // two reports, two checkpoints, two summaries at least
		t.Fatalf("only %d files to check: %v", files, keys(spill))
	}
	for where, text := range spill {
		for i, tok := range all {
			for j, part := range append([]string{tok}, strings.Split(tok, ".")...) {
				if j == 1 { // the header part is the same for every token of the fake
					continue
				}
				if strings.Contains(text, part) {
					t.Errorf("%s holds token %d (part %d)", where, i, j)
				}
			}
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the stdin spool was left in TMPDIR: %v", left)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// disableThenReport disables users 1..n of a fake (users listed in
// alreadyDisabled are disabled before) and returns the fake, its URL and the
// disable report's path.
func disableThenReport(t *testing.T, n int, alreadyDisabled ...int) (*fakecognito.Server, string, string) {
	t.Helper()
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{Seed: 3}, n+2)
	api := cip.NewFromConfig(emulator.AWSConfig(), func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
	for _, i := range alreadyDisabled {
		if _, err := api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: aws.String(testPool), Username: aws.String(userName(i))}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "leavers.csv", usersCSV(1, n))
	res := cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", "leavers.csv", "--endpoint-url", url, "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("disable exit %d\n%s", res.code, res.stderr)
	}
	return srv, url, filepath.Join(dir, "leavers.disable.report.ndjson")
}

func TestRollback_ResumeOfAFinishedRollbackMakesNoCall(t *testing.T) {
	srv, url, rep := disableThenReport(t, 20, 4, 9)
	args := []string{"rollback", "--from-report", rep, "--endpoint-url", url, "--progress", "off"}
	if res := cogsweep(t.Context(), t, args...); res.code != ExitOK {
		t.Fatalf("rollback exit %d\n%s", res.code, res.stderr)
	}
	h, recs := readReport(t, "leavers.disable.rollback.report.ndjson")
	if h.Action != "rollback" || h.Rows != 20 || len(recs) != 20 {
		t.Fatalf("header %+v, %d lines", h, len(recs))
	}
	c := countOutcomes(recs)
	if c[report.Enabled] != 18 || c[report.Skipped] != 2 {
		t.Fatalf("outcomes %v, want 18 enabled, 2 skipped", c)
	}
	for _, i := range []int{4, 9} {
		if u, _ := srv.User(testPool, userName(i)); !u.Disabled {
			t.Errorf("%s was disabled before the disable run and must stay so", userName(i))
		}
		if !strings.Contains(recs[i].Message, "already_disabled") {
			t.Errorf("row %d message %q", i, recs[i].Message)
		}
	}
	calls := srv.Calls("AdminEnableUser")
	if res := cogsweep(t.Context(), t, args...); res.code != ExitOK {
		t.Fatalf("second rollback exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.Calls("AdminEnableUser"); n != calls {
		t.Errorf("the same rollback again made %d more calls, want none", n-calls)
	}
}

func TestRollback_Refuses(t *testing.T) {
	_, url, rep := disableThenReport(t, 5)
	dir := filepath.Dir(rep)
	res := cogsweep(t.Context(), t, "enable", "--user-pool-id", testPool, "--input", "leavers.csv", "--endpoint-url", url, "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("enable exit %d\n%s", res.code, res.stderr)
	}
	res = cogsweep(t.Context(), t, "disable", "--user-pool-id", testPool, "--input", "leavers.csv", "--endpoint-url", url, "--progress", "off", "--dry-run")
	if res.code != ExitOK {
		t.Fatalf("dry run exit %d\n%s", res.code, res.stderr)
	}
	data, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	twice := writeFile(t, dir, "twice.report.ndjson", string(data)+lines[1])
	torn := writeFile(t, dir, "torn.report.ndjson", string(data)+`{"row":3,"outc`)

	killed := filepath.Join(dir, "killed.disable.report.ndjson")
	if err := os.WriteFile(killed, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cpData, err := os.ReadFile(filepath.Join(dir, "leavers.disable.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "killed.disable.checkpoint"), cpData, 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := checkpoint.Open(filepath.Join(dir, "killed.disable.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartRun(); err != nil { // started, never ended: killed
		t.Fatal(err)
	}
	j.Close()

	tests := []struct {
		name, report, want string
	}{
		{name: "another action's report", report: "leavers.enable.report.ndjson", want: "report of a enable run"},
		{name: "a dry run's plan", report: "leavers.disable.plan.report.ndjson", want: "dry run"},
		{name: "not a report", report: "leavers.csv", want: "not a cogsweep report"},
		{name: "missing", report: "nope.report.ndjson", want: "no such file"},
		{name: "stdin", report: "-", want: "not stdin"},
		{name: "two lines for a row", report: twice, want: "two lines for row"},
		{name: "torn last line", report: torn, want: "torn line"},
		{name: "killed disable run", report: killed, want: "was killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := cogsweep(t.Context(), t, "rollback", "--from-report", tt.report, "--endpoint-url", url, "--progress", "off")
			if res.code != ExitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s", res.code, ExitUsage, tt.want, res.stderr)
			}
		})
	}
}

// A shard's report has only its rows, in no order: rollback keeps their
// numbers, counts up to the largest, and fills not_attempted only for rows
// that the report has.
func TestRollback_SparseUnorderedRows_AbortFillsOnlyExistingRows(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{Seed: 4}, 10)
	api := cip.NewFromConfig(emulator.AWSConfig(), func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
	for _, i := range []int{3, 5, 7, 9} {
		if _, err := api.AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: aws.String(testPool), Username: aws.String(userName(i))}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	_ = enc.Encode(report.Header{Kind: report.HeaderKind, SchemaVersion: report.SchemaVersion, Tool: "cogsweep", Action: "disable", Rows: 12,
		Audit: map[string]any{"pool": testPool, "region": "us-east-1"}})
	for _, l := range []struct {
		row int
		out report.Outcome
	}{{7, report.Disabled}, {3, report.Disabled}, {9, report.Disabled}, {5, report.AlreadyDisabled}} {
		_ = enc.Encode(report.Record{Row: l.row, Outcome: l.out, Action: "disable", Username: userName(l.row), UserPoolID: testPool})
	}
	writeFile(t, dir, "shard-1-of-3.report.ndjson", b.String())

	// AdminEnableUser is denied: the first call stops the run.
	srv.SetDenyOps([]string{"AdminEnableUser"})
	res := cogsweep(t.Context(), t, "rollback", "--from-report", "shard-1-of-3.report.ndjson", "--endpoint-url", url, "--progress", "off", "--concurrency", "1")
	if res.code != ExitAborted {
		t.Fatalf("exit %d, want %d\n%s", res.code, ExitAborted, res.stderr)
	}
	h, recs := readReport(t, "shard-1-of-3.rollback.report.ndjson")
	if h.Rows != 9 || len(recs) != 4 {
		t.Fatalf("header rows %d and %d lines, want 9 (the largest row) and 4 (the source's lines): %v", h.Rows, len(recs), recs)
	}
	if o := recs[5].Outcome; o != report.Skipped && o != report.NotAttempted {
		t.Errorf("row 5: %s, want skipped or, past the fault, not_attempted", o)
	}
	for _, row := range []int{3, 7, 9} {
		if recs[row].Outcome != report.NotAttempted || recs[row].Username != userName(row) {
			t.Errorf("row %d: %+v, want not_attempted for its user", row, recs[row])
		}
	}

	// Allowed again, the same command resumes and finishes.
	srv.SetDenyOps(nil)
	res = cogsweep(t.Context(), t, "rollback", "--from-report", "shard-1-of-3.report.ndjson", "--endpoint-url", url, "--progress", "off")
	if res.code != ExitOK {
		t.Fatalf("resume exit %d\n%s", res.code, res.stderr)
	}
	_, recs = readReport(t, "shard-1-of-3.rollback.report.ndjson")
	if len(recs) != 4 || recs[3].Outcome != report.Enabled || recs[7].Outcome != report.Enabled || recs[9].Outcome != report.Enabled || recs[5].Outcome != report.Skipped {
		t.Fatalf("after resume: %v", recs)
	}
	if u, _ := srv.User(testPool, userName(5)); !u.Disabled {
		t.Error("row 5 was already_disabled: it must stay disabled")
	}
}

// Rows a run does not reach get not_attempted lines; a token row's names it
// by fingerprint and claim, never by the token. The signal comes with the
// first row's call: a signal during the pre-pass stops the run before its
// report exists (the number of rows is not known yet).
func TestActions_TokenRowsNotReached(t *testing.T) {
	awsEnv(t)
	noCredentials(t)
	b := newFakeBackend(t, fakecognito.Options{Seed: 2})
	const pool = "us-east-1_NOTREACH1"
	if err := b.srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"amy", "bob"} {
		if err := b.srv.AddUser(pool, fakecognito.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	amy, bob := b.srv.IssueToken(pool, "amy"), b.srv.IssueToken(pool, "bob")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DeleteUser") {
			cancel() // a signal while row 1 is in flight, before row 2
		}
		b.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "requests.csv", "access_token\n"+amy+"\n"+bob+"\n")
	res := cogsweep(ctx, t, "self-delete", "--input", "requests.csv", "--endpoint-url", hs.URL, "--progress", "off", "--concurrency", "1")
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", res.code, ExitInterrupted, res.stderr)
	}
	_, recs := readReport(t, "requests.self-delete.report.ndjson")
	r := recs[2]
	if r.Outcome != report.NotAttempted || r.Username != "bob" || r.ResolvedBy != "token_claim" || r.TokenSHA256 != input.TokenFingerprint(bob) {
		t.Fatalf("row 2: %+v", r)
	}
	if _, ok := b.srv.User(pool, "bob"); !ok {
		t.Fatal("bob was deleted by an interrupted run")
	}
}
