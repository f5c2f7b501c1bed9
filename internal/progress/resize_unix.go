//go:build unix

package progress

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// onResize calls fn each time the terminal is resized (SIGWINCH), until
// ctx ends.
func onResize(ctx context.Context, fn func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				fn()
			}
		}
	}()
}
