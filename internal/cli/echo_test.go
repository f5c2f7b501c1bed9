package cli

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// tokenParts are the pieces of a token a service may quote back alone.
type tokenParts struct{ whole, payload, sig string }

func (p tokenParts) payload40() string { return p.payload[:40] }
func (p tokenParts) sigTail30() string { return p.sig[len(p.sig)-30:] }

func splitToken(t *testing.T, tok string) tokenParts {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) < 40 || len(parts[2]) < 30 {
		t.Fatalf("token %d long is not shaped like a JWT", len(tok))
	}
	return tokenParts{tok, parts[1], parts[2]}
}

// echoCase is one user whose token calls the fake answers with an echo of
// the token: echo gets the call's attempt number (from 1).
type echoCase struct {
	name      string
	echo      func(p tokenParts, attempt int) (fakecognito.Echo, bool)
	outcome   report.Outcome
	code      string // the report's error_code
	transient bool
	calls     int // the fake's count of this token's calls; 0: not checked
}

// malformed is the error_code written for a code that is not one.
const malformed = "MalformedErrorCode"

// TestActions_EchoedTokensNeverWritten runs self-delete and token
// delete-attributes against a fake that quotes each row's token (whole or in
// part) in x-amzn-ErrorType, __type, message and x-amzn-RequestId, and
// greps every file the runs leave and every byte they print for any 16
// characters of any token's payload or signature. It also checks that the
// retry decision is the code's: a throttle with text glued to its code is
// still retried.
func TestActions_EchoedTokensNeverWritten(t *testing.T) {
	always := func(e func(p tokenParts) fakecognito.Echo) func(tokenParts, int) (fakecognito.Echo, bool) {
		return func(p tokenParts, _ int) (fakecognito.Echo, bool) { return e(p), true }
	}
	selfDelete := []echoCase{
		{name: "whole token in the header, __type and request id", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: p.whole, Type: p.whole, Message: p.whole, RequestID: p.whole}
		}), outcome: report.Failed, code: malformed},
		{name: "token in __type only, 500", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Status: http.StatusInternalServerError, Type: p.whole, RequestID: p.payload}
		}), outcome: report.Failed, code: malformed, transient: true, calls: 3},
		{name: "signature's last 30 as the code and request id", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: p.sigTail30(), Type: p.sigTail30(), RequestID: p.sigTail30()}
		}), outcome: report.Failed, code: malformed},
		{name: "payload's first 40 as the code, request id and message", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: p.payload40(), Message: "bad token " + p.payload40() + "...", RequestID: p.payload40()}
		}), outcome: report.Failed, code: malformed},
		{name: "known code with the token glued on after a space", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: "NotAuthorizedException " + p.whole, Message: "token ..." + p.sigTail30(), RequestID: "req-" + p.sigTail30()}
		}), outcome: report.Failed, code: "NotAuthorizedException"},
		{name: "throttle with the token glued on, twice, then success", echo: func(p tokenParts, n int) (fakecognito.Echo, bool) {
			return fakecognito.Echo{Header: "TooManyRequestsException " + p.whole, Message: "Rate exceeded for " + p.payload40(), RequestID: p.whole}, n <= 2
		}, outcome: report.SelfDeleted, calls: 3},
		{name: "throttle after a colon, every attempt", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: "TooManyRequestsException:" + p.sigTail30(), Type: p.whole, Message: p.payload40() + p.sigTail30(), RequestID: p.sigTail30()}
		}), outcome: report.Failed, code: "TooManyRequestsException", transient: true, calls: 3},
	}
	// delete-attributes, one call at a time: a run-wide refusal that quotes
	// the token stops the run, so its text reaches the log, stderr and the
	// checkpoint's end line too.
	deleteAttrs := []echoCase{
		{name: "partial echoes in __type and message", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Type: p.payload40(), Message: p.sigTail30() + " refused", RequestID: p.sigTail30()}
		}), outcome: report.Failed, code: malformed},
		{name: "access denied quoting the token", echo: always(func(p tokenParts) fakecognito.Echo {
			return fakecognito.Echo{Header: "AccessDeniedException:" + p.whole, Message: "denied: " + p.payload40() + " " + p.sigTail30(), RequestID: p.sigTail30()}
		}), outcome: report.NotAttempted, code: "AccessDeniedException"},
		{name: "not reached", outcome: report.NotAttempted},
	}

	awsEnv(t)
	noCredentials(t)
	b := newFakeBackend(t, fakecognito.Options{Seed: 11, RejectCredentials: true})
	const pool = "us-east-1_ECHOES01"
	if err := b.srv.CreatePool(pool, fakecognito.PoolOptions{}); err != nil {
		t.Fatal(err)
	}
	byToken := map[string]*echoCase{}
	tokens := map[*echoCase]tokenParts{}
	issue := func(prefix string, cases []echoCase) []string {
		var out []string
		for i := range cases {
			name := prefix + string(rune('a'+i))
			if err := b.srv.AddUser(pool, fakecognito.User{Username: name, Attributes: map[string]string{"custom:team": "red"}}); err != nil {
				t.Fatal(err)
			}
			tok := b.srv.IssueToken(pool, name)
			byToken[tok], tokens[&cases[i]] = &cases[i], splitToken(t, tok)
			out = append(out, tok)
		}
		return out
	}
	sdToks, daToks := issue("sd", selfDelete), issue("da", deleteAttrs)

	var mu sync.Mutex
	calls := map[string]int{}
	b.srv.SetEcho(func(tok string) (fakecognito.Echo, bool) {
		mu.Lock()
		calls[tok]++
		n := calls[tok]
		mu.Unlock()
		c := byToken[tok]
		if c == nil || c.echo == nil {
			return fakecognito.Echo{}, false
		}
		return c.echo(tokens[c], n)
	})

	dir, tmp := t.TempDir(), t.TempDir()
	t.Chdir(dir)
	t.Setenv("TMPDIR", tmp)
	run := func(stdin string, args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		no := false
		args = append(args, "--endpoint-url", b.url, "--progress", "off", "--max-attempts", "3")
		code := Main(t.Context(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, StdinIsTerminal: &no})
		return result{code, out.String(), errb.String()}
	}
	sd := run("access_token\n"+strings.Join(sdToks, "\n")+"\n",
		"self-delete", "--input", "-", "--format", "csv", "--summary", "sd.summary.json", "--log-format", "json")
	var nd strings.Builder
	for _, tok := range daToks {
		nd.WriteString(`{"access_token":"` + tok + `"}` + "\n")
	}
	da := run(nd.String(), "delete-attributes", "--attributes", "custom:team", "--input", "-", "--format", "ndjson",
		"--concurrency", "1", "--summary", "da.summary.json", "--log-format", "text")
	if sd.code != ExitRowProblems || da.code != ExitAborted {
		t.Errorf("exit %d and %d, want %d and %d\n%s\n%s", sd.code, da.code, ExitRowProblems, ExitAborted, sd.stderr, da.stderr)
	}

	check := func(file string, cases []echoCase, toks []string) {
		t.Helper()
		_, recs := readReport(t, filepath.Join(dir, file))
		for i, c := range cases {
			r := recs[i+1]
			if r.Outcome != c.outcome || r.ErrorCode != c.code || r.Transient != c.transient {
				t.Errorf("%s: %s %q transient %v, want %s %q transient %v", c.name, r.Outcome, r.ErrorCode, r.Transient, c.outcome, c.code, c.transient)
			}
			mu.Lock()
			n := calls[toks[i]]
			mu.Unlock()
			if c.calls != 0 && n != c.calls {
				t.Errorf("%s: %d calls, want %d", c.name, n, c.calls)
			}
		}
	}
	check("stdin.self-delete.report.ndjson", selfDelete, sdToks)
	check("stdin.delete-attributes.report.ndjson", deleteAttrs, daToks)

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
		for c, p := range tokens {
			if w, ok := sharedWindow(text, p.payload, p.sig); ok {
				t.Errorf("%s holds %q of the token of %q", where, w, c.name)
			}
		}
	}
}

// sharedWindow returns a 16-character piece of any of secrets that text
// holds.
func sharedWindow(text string, secrets ...string) (string, bool) {
	const n = 16
	for _, s := range secrets {
		for i := 0; i+n <= len(s); i++ {
			if strings.Contains(text, s[i:i+n]) {
				return s[i : i+n], true
			}
		}
	}
	return "", false
}
