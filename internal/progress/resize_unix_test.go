//go:build unix

package progress

import (
	"bytes"
	"context"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestBar_RefitsOnSIGWINCH(t *testing.T) {
	var out bytes.Buffer
	var width atomic.Int32
	width.Store(200)
	asked := make(chan struct{}, 16)
	b := New(&out, Options{Width: func() int { asked <- struct{}{}; return int(width.Load()) }})
	b.Update(Frame{Done: 10, Total: 100, Elapsed: time.Second, Writes: 10, Reads: 10, WriteLimit: 20})
	<-asked
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b.Watch(ctx)
	width.Store(50)
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("no redraw after SIGWINCH")
	}
	b.mu.Lock() // the redraw holds it until its frame is written
	defer b.mu.Unlock()
	fs := frames(out.String())
	if len(fs) != 2 || len(fs[1]) >= 50 {
		t.Fatalf("frames %q: want a second one under 50 columns", fs)
	}
}
