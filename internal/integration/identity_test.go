//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/report"
)

// readHeader returns a report's header line.
func readHeader(t *testing.T, path string) report.Header {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var h report.Header
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &h) != nil || h.Kind != report.HeaderKind {
		t.Fatalf("no report header in %s", path)
	}
	return h
}

// In a pool where users sign up with their email, the email is the
// Username the admin calls take: no lookup. moto implements such pools and
// GetCallerIdentity (moto's default account, 123456789012), whose answer
// goes into the audit.
func TestMoto_Identity_EmailIsTheUsername(t *testing.T) {
	m := emulator.StartMoto(t)
	pool := m.CreatePool(t, "email-users", emulator.EmailUsernames())
	emails := []string{"ann@example.com", "bob@example.com", "cy@example.com"}
	for _, e := range emails {
		m.CreateUser(t, pool, e, "", map[string]string{"email": e})
	}
	c := cli{t: t, dir: t.TempDir(), emu: m}
	c.write("hr.csv", "email\nann@example.com\nbob@example.com\nnobody@example.com\n")
	code, out := c.run("", "disable", "--user-pool-id", pool, "--input", "hr.csv")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	rp := filepath.Join(c.dir, "hr.disable.report.ndjson")
	recs := readRecords(t, rp)
	for row, want := range map[int]report.Outcome{1: report.Disabled, 2: report.Disabled, 3: report.NotFound} {
		r := recs[row]
		if r.Outcome != want || r.Input == "" {
			t.Fatalf("row %d: %+v", row, r)
		}
		if want == report.Disabled && (r.ResolvedBy != batch.ResolvedEmailAsUsername || r.Username != r.Input) {
			t.Fatalf("row %d: resolved by %q to %q", row, r.ResolvedBy, r.Username)
		}
	}
	for i, e := range emails {
		if enabled, exists := m.UserEnabled(t, pool, e); !exists || enabled != (i == 2) {
			t.Fatalf("%s: exists %v enabled %v", e, exists, enabled)
		}
	}
	caller, _ := readHeader(t, rp).Audit["caller"].(map[string]any)
	if arn, _ := caller["arn"].(string); !strings.HasPrefix(arn, "arn:aws:") || caller["account"] != "123456789012" {
		t.Fatalf("audit caller %v, want moto's GetCallerIdentity", caller)
	}
}

// Where the email is only an attribute, ListUsers with an exact filter
// finds the username; two users sharing an email are never guessed.
func TestMoto_Identity_ListUsersFilter(t *testing.T) {
	m := emulator.StartMoto(t)
	pool := m.CreatePool(t, "plain")
	m.CreateUser(t, pool, "ann", "", map[string]string{"email": "ann@example.com"})
	m.CreateUser(t, pool, "ann2", "", map[string]string{"email": "ann2@example.com"}) // a prefix of nothing in the input
	m.CreateUser(t, pool, "twin-a", "", map[string]string{"email": "twin@example.com"})
	m.CreateUser(t, pool, "twin-b", "", map[string]string{"email": "twin@example.com"})
	m.CreateUser(t, pool, "keep", "", map[string]string{"email": "keep@example.com"})
	c := cli{t: t, dir: t.TempDir(), emu: m}
	c.write("hr.ndjson", `{"email":"ann@example.com"}`+"\n"+`{"email":"twin@example.com"}`+"\n"+
		`{"email":"a\" or email ^= \""}`+"\n"+`{"email":"nobody@example.com"}`+"\n")
	code, out := c.run("", "delete", "--user-pool-id", pool, "--confirm-pool-id", pool, "--max-fraction", "1", "--input", "hr.ndjson")
	if code != 3 {
		t.Fatalf("exit %d, want 3 (an ambiguous and an injected row)\n%s", code, out)
	}
	recs := readRecords(t, filepath.Join(c.dir, "hr.delete.report.ndjson"))
	if r := recs[1]; r.Outcome != report.Deleted || r.Username != "ann" || r.ResolvedBy != batch.ResolvedListUsers {
		t.Fatalf("row 1: %+v", r)
	}
	if r := recs[2]; r.Outcome != report.Invalid || !strings.Contains(r.Message, "matches 2 users") {
		t.Fatalf("row 2: %+v", r)
	}
	if r := recs[3]; r.Outcome != report.Invalid {
		t.Fatalf("row 3 (filter injection): %+v", r)
	}
	if r := recs[4]; r.Outcome != report.NotFound {
		t.Fatalf("row 4: %+v", r)
	}
	left := strings.Join(m.ListUsernames(t, pool), ",")
	if left != "ann2,keep,twin-a,twin-b" {
		t.Fatalf("users left: %s", left)
	}
}
