//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/reporttest"
)

// These tests run the built binary, as a user would, against real
// third-party emulators.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cogsweep-integration")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cogsweep")
	out, err := exec.Command("go", "build", "-o", binary, "../../cmd/cogsweep").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build cogsweep: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cli struct {
	t   *testing.T
	dir string
	emu interface {
		URL() string
		Env() []string
	}
}

// run runs cogsweep with args in the test's directory and returns its exit
// code and combined output.
func (c cli) run(stdin string, args ...string) (int, string) {
	c.t.Helper()
	cmd := exec.Command(binary, append(args, "--endpoint-url", c.emu.URL(), "--progress", "off", "--log-format", "text")...)
	cmd.Dir = c.dir
	cmd.Env = append(c.emu.Env(), "HOME="+c.dir, "TMPDIR="+c.dir, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_ENDPOINT_URL_STS="+c.emu.URL()) // moto serves STS GetCallerIdentity on the same port
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		c.t.Fatalf("run cogsweep: %v", err)
	}
	return 0, out.String()
}

func (c cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func readRecords(t *testing.T, path string) map[int]report.Record {
	t.Helper()
	return reporttest.Records(t, path)
}

// TestMoto_DisableThenDelete: 500 users of 600 disabled then deleted; the
// pool keeps exactly the other 100, checked with ListUsers.
func TestMoto_DisableThenDelete(t *testing.T) {
	m := emulator.StartMoto(t)
	pool := m.CreatePool(t, "offboarding")
	var all, leavers []string
	for i := 1; i <= 600; i++ {
		all = append(all, fmt.Sprintf("emp%04d", i))
	}
	m.CreateUsers(t, pool, all)
	c := cli{t: t, dir: t.TempDir(), emu: m}
	var b strings.Builder
	b.WriteString("cognito:username,email,department\n")
	for i := 1; i <= 500; i++ {
		leavers = append(leavers, all[i-1])
		fmt.Fprintf(&b, "%s,%s@example.com,\"Sales, EMEA\"\n", all[i-1], all[i-1])
	}
	c.write("leavers.csv", b.String())

	code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "leavers.csv", "--rate", "200", "--read-rate", "200")
	if code != 0 {
		t.Fatalf("disable exit %d\n%s", code, out)
	}
	for i, name := range all {
		enabled, exists := m.UserEnabled(t, pool, name)
		if !exists || enabled != (i >= 500) {
			t.Fatalf("%s: exists %v enabled %v after disable", name, exists, enabled)
		}
	}
	recs := readRecords(t, filepath.Join(c.dir, "leavers.disable.report.ndjson"))
	if len(recs) != 500 {
		t.Fatalf("disable report: %d rows", len(recs))
	}
	for row, r := range recs {
		if r.Outcome != report.Disabled || r.Username != leavers[row-1] || r.UserPoolID != pool {
			t.Fatalf("row %d: %+v", row, r)
		}
	}

	code, out = c.run("", "delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1",
		"--input", "leavers.csv", "--rate", "200")
	if code != 0 {
		t.Fatalf("delete exit %d\n%s", code, out)
	}
	left := m.ListUsernames(t, pool)
	want := append([]string(nil), all[500:]...)
	sort.Strings(want)
	if strings.Join(left, ",") != strings.Join(want, ",") {
		t.Fatalf("users left: %d, want the %d not in the input", len(left), len(want))
	}
	recs = readRecords(t, filepath.Join(c.dir, "leavers.delete.report.ndjson"))
	for row := 1; row <= 500; row++ {
		if recs[row].Outcome != report.Deleted {
			t.Fatalf("row %d: %s", row, recs[row].Outcome)
		}
	}
}

func TestMoto_MissingPoolExits4(t *testing.T) {
	m := emulator.StartMoto(t)
	c := cli{t: t, dir: t.TempDir(), emu: m}
	c.write("in.csv", "username\nalice\nbob\n")
	code, out := c.run("", "disable", "--user-pool-id", "us-east-1_doesnotexist0", "--input", "in.csv")
	if code != 4 || !strings.Contains(out, "does not exist") {
		t.Fatalf("exit %d, want 4 naming the missing pool\n%s", code, out)
	}
}
