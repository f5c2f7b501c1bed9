// Package scenario runs the action scenarios of fixtures/actions against any
// Cognito backend: the wire-level fake in unit tests, moto and cognito-local
// in integration tests. A scenario file says which users a pool starts with,
// which cogsweep commands run on which input, what each row's outcome must be
// and in what state the users must end; running the same file against two
// backends proves they end in the same state.
//
// Helpers take a testing.TB and fail the test on any error.
//
// It may import report; only tests import it.
package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/report"
)

// Scenario is one fixtures/actions/<name>/scenario.json.
type Scenario struct {
	Name string `json:"-"` // the folder's name
	// Emulator names the third-party emulator that implements the action:
	// "moto" or "cognito-local".
	Emulator         string   `json:"emulator"`
	CustomAttributes []string `json:"custom_attributes,omitempty"`
	Users            []User   `json:"users"`
	// Tokens names the users whose access tokens are taken before the
	// steps (before any user is disabled or deleted). Inputs and Want refer
	// to them.
	Tokens []string `json:"tokens,omitempty"`
	// DeleteBefore names users deleted (admin call) after their tokens were
	// taken: their tokens are then refused.
	DeleteBefore []string `json:"delete_before,omitempty"`
	Steps        []Step   `json:"steps"`
	Want         Want     `json:"want"`
}

// User is a user the pool starts with. Every user gets a password so that
// a token can be taken; Disabled users are disabled after that.
type User struct {
	Username   string            `json:"username"`
	Disabled   bool              `json:"disabled,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Step is one cogsweep command.
type Step struct {
	// Args are the command line. "${pool}" stands for the pool's id and
	// "${token:NAME}" for NAME's access token, here and in Input.
	Args []string `json:"args"`
	// Input, when set, is written to the step's folder first.
	Input *File `json:"input,omitempty"`
	// NoCredentials runs the command with no AWS credentials at all.
	NoCredentials bool `json:"no_credentials,omitempty"`
	WantExit      int  `json:"want_exit"`
	// Report is the report file the step must leave, relative to the
	// folder the commands run in; WantOutcomes maps its rows to outcomes,
	// "failed:Code" for a failure with that error code. Every row of the
	// report must be listed.
	Report       string            `json:"report"`
	WantOutcomes map[string]string `json:"want_outcomes"`
	// WantUsernames maps rows to the username their report line names
	// (for token rows: read from the token's claims).
	WantUsernames map[string]string `json:"want_usernames,omitempty"`
	// Want, when set, is checked after this step.
	Want *Want `json:"want,omitempty"`
}

// File is an input file.
type File struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// Want is a state the backend must be in.
type Want struct {
	Users map[string]UserState `json:"users,omitempty"`
	// TokensRejected and TokensValid name users whose token (taken before
	// the steps) must now be refused or accepted.
	TokensRejected []string `json:"tokens_rejected,omitempty"`
	TokensValid    []string `json:"tokens_valid,omitempty"`
}

// UserState is what is checked of one user.
type UserState struct {
	Exists  bool  `json:"exists"`
	Enabled *bool `json:"enabled,omitempty"`
	// Attributes must have these values; AttributesAbsent must not be set.
	Attributes       map[string]string `json:"attributes,omitempty"`
	AttributesAbsent []string          `json:"attributes_absent,omitempty"`
}

// Backend is a Cognito the scenario sets up and inspects, out of band of
// cogsweep.
type Backend interface {
	// CreatePool creates a pool with the custom attributes (names without
	// the custom: prefix) and returns its id.
	CreatePool(t testing.TB, customAttributes []string) string
	// CreateUser creates a confirmed, enabled user with the attributes and
	// a password, so that Token works.
	CreateUser(t testing.TB, pool string, u User)
	Token(t testing.TB, pool, username string) string
	Disable(t testing.TB, pool, username string)
	Delete(t testing.TB, pool, username string)
	// User reports whether the user exists, is enabled, and its attributes.
	User(t testing.TB, pool, username string) (exists, enabled bool, attrs map[string]string)
	// TokenValid reports whether the service accepts the access token.
	TokenValid(t testing.TB, token string) bool
}

// Command is one cogsweep invocation in Dir.
type Command struct {
	Dir           string
	Args          []string
	NoCredentials bool
}

// Runner runs cogsweep against the backend (adding its endpoint) and
// returns the exit code and the output, for failure messages.
type Runner func(t testing.TB, c Command) (code int, output string)

// Dir is fixtures/actions, found from the working directory up.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "fixtures", "actions")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads every scenario of fixtures/actions, sorted by name.
func Load(t testing.TB) []Scenario {
	t.Helper()
	dir := Dir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read scenarios: %v", err)
	}
	var out []Scenario
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "scenario.json"))
		if err != nil {
			t.Fatalf("read scenario %s: %v", e.Name(), err)
		}
		var sc Scenario
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			t.Fatalf("scenario %s: %v", e.Name(), err)
		}
		sc.Name = e.Name()
		out = append(out, sc)
	}
	if len(out) == 0 {
		t.Fatalf("no scenarios under %s", dir)
	}
	return out
}

// Run plays sc against b, running cogsweep with run, and checks every
// outcome and state it states.
func Run(t *testing.T, sc Scenario, b Backend, run Runner) {
	t.Helper()
	pool := b.CreatePool(t, sc.CustomAttributes)
	for _, u := range sc.Users {
		b.CreateUser(t, pool, u)
	}
	tokens := map[string]string{}
	for _, name := range sc.Tokens {
		tokens[name] = b.Token(t, pool, name)
	}
	for _, u := range sc.Users {
		if u.Disabled {
			b.Disable(t, pool, u.Username)
		}
	}
	for _, name := range sc.DeleteBefore {
		b.Delete(t, pool, name)
	}
	pairs := []string{"${pool}", pool}
	for name, tok := range tokens {
		pairs = append(pairs, "${token:"+name+"}", tok)
	}
	expand := strings.NewReplacer(pairs...).Replace

	dir := t.TempDir()
	for i, st := range sc.Steps {
		if st.Input != nil {
			p := filepath.Join(dir, st.Input.Name)
			if err := os.WriteFile(p, []byte(expand(st.Input.Content)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		args := make([]string, len(st.Args))
		for j, a := range st.Args {
			args[j] = expand(a)
		}
		code, out := run(t, Command{Dir: dir, Args: args, NoCredentials: st.NoCredentials})
		if code != st.WantExit {
			rep, _ := os.ReadFile(filepath.Join(dir, st.Report))
			t.Fatalf("step %d (%s): exit %d, want %d\n%s\nreport:\n%s", i+1, st.Args[0], code, st.WantExit, out, rep)
		}
		checkReport(t, i+1, filepath.Join(dir, st.Report), st.WantOutcomes, st.WantUsernames)
		if st.Want != nil {
			check(t, fmt.Sprintf("after step %d", i+1), b, pool, tokens, *st.Want)
		}
	}
	check(t, "at the end", b, pool, tokens, sc.Want)
}

func checkReport(t *testing.T, step int, path string, want, wantUsers map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("step %d: %v", step, err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		var r report.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("step %d: report line %q: %v", step, sc.Text(), err)
		}
		key := strconv.Itoa(r.Row)
		if _, dup := got[key]; dup {
			t.Fatalf("step %d: row %d has two report lines", step, r.Row)
		}
		o := string(r.Outcome)
		if r.Outcome == report.Failed {
			o += ":" + r.ErrorCode
		}
		got[key] = o
		if u, ok := wantUsers[key]; ok && r.Username != u {
			t.Errorf("step %d: row %d names %q, want %q", step, r.Row, r.Username, u)
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("step %d: report %s outcomes\n got %s\nwant %s", step, filepath.Base(path), sorted(got), sorted(want))
	}
}

func check(t *testing.T, when string, b Backend, pool string, tokens map[string]string, w Want) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(w.Users)) {
		want := w.Users[name]
		exists, enabled, attrs := b.User(t, pool, name)
		if exists != want.Exists {
			t.Errorf("%s: user %s exists %v, want %v", when, name, exists, want.Exists)
			continue
		}
		if !exists {
			continue
		}
		if want.Enabled != nil && enabled != *want.Enabled {
			t.Errorf("%s: user %s enabled %v, want %v", when, name, enabled, *want.Enabled)
		}
		for k, v := range want.Attributes {
			if got, ok := attrs[k]; !ok || got != v {
				t.Errorf("%s: user %s attribute %s = %q (set %v), want %q", when, name, k, got, ok, v)
			}
		}
		for _, k := range want.AttributesAbsent {
			if _, ok := attrs[k]; ok {
				t.Errorf("%s: user %s still has attribute %s", when, name, k)
			}
		}
	}
	for _, name := range w.TokensRejected {
		if b.TokenValid(t, tokens[name]) {
			t.Errorf("%s: %s's old token is still accepted", when, name)
		}
	}
	for _, name := range w.TokensValid {
		if !b.TokenValid(t, tokens[name]) {
			t.Errorf("%s: %s's token is refused, want accepted", when, name)
		}
	}
}

func sorted(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i])
		b, _ := strconv.Atoi(keys[j])
		return a < b
	})
	var s strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&s, "%s=%s ", k, m[k])
	}
	return s.String()
}
