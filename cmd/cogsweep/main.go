// Command cogsweep disables, deletes and scrubs Amazon Cognito user-pool users
// in bulk, at a rate the account's quota allows, resumably.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cogsweep/cogsweep/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}
