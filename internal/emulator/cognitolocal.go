package emulator

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// cognitoLocalScript is cognito-local's entry point under
// scripts/emulators/node_modules (see its package.json "bin").
const cognitoLocalScript = "scripts/emulators/node_modules/cognito-local/lib/bin/start.js"

// CognitoLocal is a running cognito-local. Unlike moto it implements the
// token calls (DeleteUser, DeleteUserAttributes) but not
// AdminUserGlobalSignOut. It rewrites one JSON file on every write and
// corrupts it under concurrent writes: do not write to it from parallel
// subtests.
type CognitoLocal struct {
	*Cognito
	proc *process
	dir  string
}

// StartCognitoLocal starts cognito-local (installed by `npm ci` in
// scripts/emulators) on a free 127.0.0.1 port with a fresh data folder,
// waits until it answers and stops it when t ends.
func StartCognitoLocal(t testing.TB) *CognitoLocal {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("find cognito-local: %v", err)
	}
	script := filepath.Join(root, filepath.FromSlash(cognitoLocalScript))
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("cognito-local is not installed (%v): run `npm ci` in %s", err, filepath.Join(root, "scripts", "emulators"))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found on PATH (%v): cognito-local needs Node.js 20 or later", err)
	}
	// cognito-local keeps its data in ./.cognito and rewrites it on every
	// write: a fresh folder per emulator keeps runs independent.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".cognito"), 0o755); err != nil {
		t.Fatalf("create cognito-local data folder: %v", err)
	}
	// Without this, new pools use email as the username attribute and plain
	// usernames are refused.
	config := []byte(`{"UserPoolDefaults":{"UsernameAttributes":[]}}` + "\n")
	if err := os.WriteFile(filepath.Join(dir, ".cognito", "config.json"), config, 0o644); err != nil {
		t.Fatalf("write cognito-local config: %v", err)
	}
	p, err := startProcess(t.Context(), procSpec{
		name:      "cognito-local",
		path:      node,
		args:      func(int) []string { return []string{script} },
		env:       func(port int) []string { return []string{"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port)} },
		dir:       dir,
		readyPath: "/health",
	})
	if err != nil {
		t.Fatal(err)
	}
	stopOnCleanup(t, p)
	// One writer at a time: concurrent writes corrupt its JSON database.
	return &CognitoLocal{Cognito: newCognito(p.url(), 1), proc: p, dir: dir}
}

// Dir is the emulator's working folder; its data is in Dir()/.cognito.
func (c *CognitoLocal) Dir() string { return c.dir }

// moduleRoot finds the folder holding go.mod, from the working directory up:
// go test runs each package in its own folder.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
