//go:build integration

package integration

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cogsweep/cogsweep/internal/emulator"
	"github.com/cogsweep/cogsweep/internal/scenario"
)

// scenarioPassword satisfies both emulators' default password policies.
const scenarioPassword = "Sc3nario-Passw0rd!"

// emulatorBackend is moto or cognito-local as a scenario backend: users get
// a password and an app client so that tokens come from a real sign-in.
type emulatorBackend struct {
	c       *emulator.Cognito
	clients map[string]string // pool -> app client
}

func (b *emulatorBackend) CreatePool(t testing.TB, customAttributes []string) string {
	t.Helper()
	pool := b.c.CreatePool(t, "actions", emulator.CustomAttributes(customAttributes...))
	b.clients[pool] = b.c.CreateUserPoolClient(t, pool)
	return pool
}

func (b *emulatorBackend) CreateUser(t testing.TB, pool string, u scenario.User) {
	t.Helper()
	b.c.CreateUser(t, pool, u.Username, scenarioPassword, u.Attributes)
}

func (b *emulatorBackend) Token(t testing.TB, pool, username string) string {
	t.Helper()
	return b.c.AccessToken(t, pool, b.clients[pool], username, scenarioPassword)
}

func (b *emulatorBackend) Disable(t testing.TB, pool, username string) {
	t.Helper()
	if _, err := b.c.CognitoClient().AdminDisableUser(t.Context(), &cip.AdminDisableUserInput{UserPoolId: &pool, Username: &username}); err != nil {
		t.Fatalf("disable %s: %v", username, err)
	}
}

func (b *emulatorBackend) Delete(t testing.TB, pool, username string) {
	t.Helper()
	if _, err := b.c.CognitoClient().AdminDeleteUser(t.Context(), &cip.AdminDeleteUserInput{UserPoolId: &pool, Username: &username}); err != nil {
		t.Fatalf("delete %s: %v", username, err)
	}
}

func (b *emulatorBackend) User(t testing.TB, pool, username string) (bool, bool, map[string]string) {
	t.Helper()
	enabled, exists := b.c.UserEnabled(t, pool, username)
	if !exists {
		return false, false, nil
	}
	return true, enabled, b.c.UserAttributes(t, pool, username)
}

// TokenValid calls GetUser with the token: it works until the token is
// revoked or its user is gone.
func (b *emulatorBackend) TokenValid(t testing.TB, token string) bool {
	_, err := b.c.CognitoClient().GetUser(t.Context(), &cip.GetUserInput{AccessToken: aws.String(token)})
	return err == nil
}

// binaryRunner runs the built cogsweep in c.Dir against the emulator. With
// NoCredentials the child's environment has no AWS credentials at all.
func binaryRunner(emu *emulator.Cognito) scenario.Runner {
	return func(t testing.TB, c scenario.Command) (int, string) {
		t.Helper()
		args := append(append([]string(nil), c.Args...), "--endpoint-url", emu.URL(), "--progress", "off", "--log-format", "text")
		cmd := exec.Command(binary, args...)
		cmd.Dir = c.Dir
		// moto answers STS too: the pre-flight's GetCallerIdentity.
		env := append(emu.Env(), "AWS_ENDPOINT_URL_STS="+emu.URL())
		if c.NoCredentials {
			env = []string{"AWS_REGION=" + emulator.Region, "AWS_EC2_METADATA_DISABLED=true"}
		}
		cmd.Env = append(env, "HOME="+c.Dir, "TMPDIR="+c.Dir, "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), out.String()
		case err != nil:
			t.Fatalf("run cogsweep: %v", err)
		}
		return 0, out.String()
	}
}

// TestActions_Scenarios plays each fixtures/actions scenario against the
// emulator that implements its action: moto for the admin calls (it lacks
// DeleteUser and DeleteUserAttributes), cognito-local for the token calls
// (it lacks AdminUserGlobalSignOut). internal/cli plays the same files
// against the wire-level fake, so both end in the same state.
func TestActions_Scenarios(t *testing.T) {
	all := scenario.Load(t)
	byEmulator := map[string][]scenario.Scenario{}
	for _, sc := range all {
		switch sc.Emulator {
		case "moto", "cognito-local":
			byEmulator[sc.Emulator] = append(byEmulator[sc.Emulator], sc)
		default:
			t.Fatalf("scenario %s: unknown emulator %q", sc.Name, sc.Emulator)
		}
	}
	t.Run("moto", func(t *testing.T) {
		m := emulator.StartMoto(t)
		for _, sc := range byEmulator["moto"] {
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel() // each scenario has its own pool
				scenario.Run(t, sc, &emulatorBackend{c: m.Cognito, clients: map[string]string{}}, binaryRunner(m.Cognito))
			})
		}
	})
	t.Run("cognito-local", func(t *testing.T) {
		cl := emulator.StartCognitoLocal(t)
		// One writer at a time: cognito-local corrupts its database under
		// concurrent writes, so these run in turn.
		for _, sc := range byEmulator["cognito-local"] {
			t.Run(sc.Name, func(t *testing.T) {
				scenario.Run(t, sc, &emulatorBackend{c: cl.Cognito, clients: map[string]string{}}, binaryRunner(cl.Cognito))
			})
		}
	})
}

// A token of an app client that no longer exists gets
// ResourceNotFoundException from cognito-local: on a token call that is this
// row's bad token, not a missing pool, so the run goes on with the others.
func TestCognitoLocal_TokenOfUnknownClientFailsOnlyItsRow(t *testing.T) {
	cl := emulator.StartCognitoLocal(t)
	b := &emulatorBackend{c: cl.Cognito, clients: map[string]string{}}
	pool := b.CreatePool(t, nil)
	b.CreateUser(t, pool, scenario.User{Username: "amy"})
	b.CreateUser(t, pool, scenario.User{Username: "bob"})
	amy := b.Token(t, pool, "amy")
	gone := cl.CreateUserPoolClient(t, pool)
	bob := cl.AccessToken(t, pool, gone, "bob", scenarioPassword)
	if _, err := cl.CognitoClient().DeleteUserPoolClient(t.Context(), &cip.DeleteUserPoolClientInput{UserPoolId: aws.String(pool), ClientId: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := cli{t: t, dir: dir, emu: cl}
	c.write("requests.csv", "access_token\n"+bob+"\n"+amy+"\n")
	code, out := binaryRunner(cl.Cognito)(t, scenario.Command{Dir: dir, Args: []string{"self-delete", "--input", "requests.csv"}, NoCredentials: true})
	if code != 3 {
		t.Fatalf("exit %d, want 3 (one row failed, the run went on)\n%s", code, out)
	}
	recs := readRecords(t, dir+"/requests.self-delete.report.ndjson")
	if r := recs[1]; r.Outcome != "failed" || r.ErrorCode != "ResourceNotFoundException" || r.Transient {
		t.Errorf("row 1: %+v, want failed ResourceNotFoundException, permanent", r)
	}
	if r := recs[2]; r.Outcome != "self_deleted" {
		t.Errorf("row 2: %+v, want self_deleted", r)
	}
	if _, exists := cl.UserEnabled(t, pool, "amy"); exists {
		t.Error("amy still exists")
	}
	if _, exists := cl.UserEnabled(t, pool, "bob"); !exists {
		t.Error("bob was deleted with a token of a deleted client")
	}
}
