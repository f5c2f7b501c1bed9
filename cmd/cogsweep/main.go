// Command cogsweep disables, deletes, scrubs and restores Amazon Cognito user-pool users
// in bulk, at a rate the account's quota allows, resumably.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	// TLS roots compiled in, used only where the system has none: the
	// container image is built from an empty base, with no /etc/ssl.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/cogsweep/cogsweep/internal/cli"
)

func main() {
	// SIGHUP too: an ssh session that drops sends it, and its default
	// action kills the run with no drain.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
