package retry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

var (
	errThrottle = codeErr(400, "TooManyRequestsException")
	errInternal = codeErr(500, "InternalErrorException")
	errNotFound = codeErr(400, "UserNotFoundException")
	errInvalid  = codeErr(400, "InvalidParameterException")
	errNoPool   = codeErr(400, "ResourceNotFoundException")
	errRefused  = transportErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	errReset    = transportErr(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)})
)

// harness records what Do does through the Loop's hooks.
type harness struct {
	waits, throttles int
	successes        []time.Duration
	sleeps           []time.Duration
	now              time.Time
}

func (h *harness) loop(kind Kind) Loop {
	h.now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return Loop{
		Policy:     DefaultPolicy(),
		Kind:       kind,
		Wait:       func(ctx context.Context) error { h.waits++; return ctx.Err() },
		OnThrottle: func() { h.throttles++ },
		OnSuccess:  func(d time.Duration) { h.successes = append(h.successes, d) },
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.sleeps = append(h.sleeps, d)
			return ctx.Err()
		},
		Rand: func() float64 { return 0.5 },
		// Each reading of the clock advances it 15ms: an attempt lasts 15ms.
		Now: func() time.Time { h.now = h.now.Add(15 * time.Millisecond); return h.now },
	}
}

// script returns a call that fails with errs in turn, then succeeds.
func script(errs ...error) (func(context.Context) error, *int) {
	n := 0
	return func(context.Context) error {
		n++
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &n
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestDo(t *testing.T) {
	tests := []struct {
		name          string
		kind          Kind
		errs          []error
		maxAttempts   int
		wantAttempts  int
		wantThrottles int
		wantClass     Class
		wantCode      string
		wantMaybe     bool
		wantSleeps    []time.Duration
		wantSuccesses int
	}{
		{name: "first try", wantAttempts: 1, wantClass: OK, wantSuccesses: 1},
		{name: "two throttles then success", errs: []error{errThrottle, errThrottle}, wantAttempts: 3, wantThrottles: 2, wantClass: OK, wantSleeps: ms(50, 100), wantSuccesses: 1},
		{name: "5xx then success may have executed", errs: []error{errInternal}, wantAttempts: 2, wantClass: OK, wantMaybe: true, wantSleeps: ms(50), wantSuccesses: 1},
		{name: "reset then success may have executed", errs: []error{errReset}, wantAttempts: 2, wantClass: OK, wantMaybe: true, wantSleeps: ms(50), wantSuccesses: 1},
		{name: "refused then success never executed", errs: []error{errRefused, errRefused}, wantAttempts: 3, wantClass: OK, wantSleeps: ms(50, 100), wantSuccesses: 1},
		{name: "not found stops and counts as an answer", errs: []error{errNotFound}, wantAttempts: 1, wantClass: NotFound, wantCode: "UserNotFoundException", wantSuccesses: 1},
		{name: "permanent stops", errs: []error{errThrottle, errInvalid}, wantAttempts: 2, wantThrottles: 1, wantClass: Permanent, wantCode: "InvalidParameterException", wantSleeps: ms(50)},
		{name: "missing pool stops", errs: []error{errNoPool, errThrottle}, wantAttempts: 1, wantClass: PoolMissing, wantCode: "ResourceNotFoundException"},
		{name: "fatal stops", errs: []error{codeErr(400, "AccessDeniedException"), errThrottle}, wantAttempts: 1, wantClass: Fatal, wantCode: "AccessDeniedException"},
		{name: "not authorized on a token call fails the row after a timeout", kind: Token, errs: []error{errReset, codeErr(400, "NotAuthorizedException")}, wantAttempts: 2, wantClass: Permanent, wantCode: "NotAuthorizedException", wantMaybe: true, wantSleeps: ms(50)},
		{
			name:          "throttled out",
			errs:          slices.Repeat([]error{errThrottle}, 10),
			wantAttempts:  8,
			wantThrottles: 8,
			wantClass:     Throttle,
			wantCode:      "TooManyRequestsException",
			wantSleeps:    ms(50, 100, 200, 400, 800, 1600, 3200),
		},
		{
			name:          "last transient class wins",
			errs:          []error{errThrottle, errThrottle, errInternal},
			maxAttempts:   3,
			wantAttempts:  3,
			wantThrottles: 2,
			wantClass:     Retry,
			wantCode:      "InternalErrorException",
			wantMaybe:     true,
			wantSleeps:    ms(50, 100),
		},
		{name: "one attempt only", errs: []error{errInternal}, maxAttempts: 1, wantAttempts: 1, wantClass: Retry, wantCode: "InternalErrorException", wantMaybe: true},
		{name: "refused out never executed", errs: slices.Repeat([]error{errRefused}, 3), maxAttempts: 3, wantAttempts: 3, wantClass: Retry, wantCode: CodeNetworkError, wantSleeps: ms(50, 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h harness
			l := h.loop(tt.kind)
			if tt.maxAttempts > 0 {
				l.Policy.MaxAttempts = tt.maxAttempts
			}
			call, calls := script(tt.errs...)
			res := Do(context.Background(), l, call)
			if res.Attempts != tt.wantAttempts || *calls != tt.wantAttempts || h.waits != tt.wantAttempts {
				t.Errorf("attempts = %d, calls = %d, waits = %d, want %d each", res.Attempts, *calls, h.waits, tt.wantAttempts)
			}
			if res.Throttles != tt.wantThrottles || h.throttles != tt.wantThrottles {
				t.Errorf("throttles = %d, OnThrottle = %d, want %d", res.Throttles, h.throttles, tt.wantThrottles)
			}
			if res.Class != tt.wantClass || res.Code != tt.wantCode {
				t.Errorf("class, code = %v %q, want %v %q", res.Class, res.Code, tt.wantClass, tt.wantCode)
			}
			if res.MaybeExecuted != tt.wantMaybe {
				t.Errorf("MaybeExecuted = %v, want %v", res.MaybeExecuted, tt.wantMaybe)
			}
			if !slices.Equal(h.sleeps, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", h.sleeps, tt.wantSleeps)
			}
			if len(h.successes) != tt.wantSuccesses {
				t.Errorf("OnSuccess calls = %d, want %d", len(h.successes), tt.wantSuccesses)
			}
			for _, d := range h.successes {
				if d != 15*time.Millisecond {
					t.Errorf("latency = %v, want 15ms", d)
				}
			}
			switch {
			case tt.wantClass == OK && res.Err != nil:
				t.Errorf("Err = %v, want nil", res.Err)
			case tt.wantClass != OK:
				var ce *Error
				if !errors.As(res.Err, &ce) || ce.Class != tt.wantClass {
					t.Errorf("Err = %v does not carry class %v", res.Err, tt.wantClass)
				}
			}
		})
	}
}

func TestDo_RequestIDOfLastAttempt(t *testing.T) {
	var h harness
	call, _ := script(errNotFound)
	if res := Do(context.Background(), h.loop(IAM), call); res.RequestID != "req-123" {
		t.Errorf("RequestID = %q", res.RequestID)
	}
}

func TestDo_PreclassifiedErrorNotWrappedTwice(t *testing.T) {
	var h harness
	pre := Wrap(Decision{Class: Fatal, Code: "Custom"}, errors.New("pool gone"))
	call, _ := script(pre)
	res := Do(context.Background(), h.loop(IAM), call)
	if res.Err != pre || res.Class != Fatal || res.Code != "Custom" {
		t.Errorf("res = %+v", res)
	}
}

func TestDo_PerAttemptTimeout(t *testing.T) {
	var h harness
	l := h.loop(IAM)
	l.Timeout = 5 * time.Millisecond
	l.Policy.MaxAttempts = 2
	var deadlines []bool
	res := Do(context.Background(), l, func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		deadlines = append(deadlines, ok)
		<-ctx.Done() // the attempt hangs until its own timeout
		return &smithy.OperationError{Err: &smithy.CanceledError{Err: ctx.Err()}}
	})
	if res.Attempts != 2 || res.Class != Retry || res.Code != CodeTimeout || !res.MaybeExecuted {
		t.Errorf("res = %+v, want 2 attempts, retry Timeout, maybe executed", res)
	}
	if !slices.Equal(deadlines, []bool{true, true}) {
		t.Errorf("attempt contexts had deadlines %v", deadlines)
	}
	if errors.Is(res.Err, context.Canceled) {
		t.Errorf("a per-attempt timeout must not look like the caller canceling: %v", res.Err)
	}
}

func TestDo_CanceledDuringSleep(t *testing.T) {
	var h harness
	l := h.loop(IAM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.Sleep = func(ctx context.Context, d time.Duration) error {
		h.sleeps = append(h.sleeps, d)
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	call, calls := script(errThrottle, errThrottle)
	res := Do(ctx, l, call)
	if !errors.Is(res.Err, context.Canceled) || res.Class != Retry || res.Code != CodeCanceled {
		t.Errorf("res = %+v, want canceled", res)
	}
	if res.Attempts != 1 || *calls != 1 || res.Throttles != 1 || res.MaybeExecuted {
		t.Errorf("attempts=%d calls=%d throttles=%d maybe=%v, want 1 1 1 false", res.Attempts, *calls, res.Throttles, res.MaybeExecuted)
	}
}

func TestDo_CanceledDuringWait(t *testing.T) {
	var h harness
	l := h.loop(IAM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.Wait = func(ctx context.Context) error {
		h.waits++
		if h.waits == 2 {
			cancel()
			<-ctx.Done()
			return fmt.Errorf("limiter: %w", ctx.Err())
		}
		return nil
	}
	call, calls := script(errInternal, errInternal)
	res := Do(ctx, l, call)
	if res.Err != context.Canceled || res.Code != CodeCanceled || res.Class != Retry {
		t.Errorf("res = %+v, want Err context.Canceled", res)
	}
	if res.Attempts != 1 || *calls != 1 || !res.MaybeExecuted {
		t.Errorf("attempts=%d calls=%d maybe=%v, want 1 1 true", res.Attempts, *calls, res.MaybeExecuted)
	}
}

func TestDo_CanceledBeforeStart(t *testing.T) {
	var h harness
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	call, calls := script()
	res := Do(ctx, h.loop(IAM), call)
	if res.Attempts != 0 || *calls != 0 || res.Err != context.Canceled {
		t.Errorf("res = %+v calls = %d", res, *calls)
	}
}

func TestDo_CanceledDuringCall(t *testing.T) {
	var h harness
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := Do(ctx, h.loop(IAM), func(ctx context.Context) error {
		cancel()
		return &smithy.OperationError{Err: &smithy.CanceledError{Err: ctx.Err()}}
	})
	if res.Err != context.Canceled || res.Attempts != 1 || !res.MaybeExecuted || len(h.sleeps) != 0 {
		t.Errorf("res = %+v sleeps = %v, want canceled after 1 attempt that may have run", res, h.sleeps)
	}
}

func TestDo_WaitFailsWithoutCancel(t *testing.T) {
	var h harness
	l := h.loop(IAM)
	errDeadline := errors.New("rate: Wait(n=1) would exceed context deadline")
	l.Wait = func(context.Context) error { return errDeadline }
	call, calls := script()
	res := Do(context.Background(), l, call)
	if !errors.Is(res.Err, errDeadline) || res.Code != CodeCanceled || *calls != 0 {
		t.Errorf("res = %+v calls = %d", res, *calls)
	}
}

func TestDo_Defaults(t *testing.T) {
	// A zero Loop makes one attempt with the real clock and no limiter.
	call, calls := script(errInternal)
	res := Do(context.Background(), Loop{}, call)
	if res.Attempts != 1 || *calls != 1 || res.Class != Retry {
		t.Errorf("res = %+v", res)
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep on a canceled ctx = %v", err)
	}
	if err := Sleep(context.Background(), time.Microsecond); err != nil {
		t.Errorf("short Sleep = %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Errorf("zero Sleep = %v", err)
	}
}

// TestDo_EveryAttemptEndsInOneHook: each attempt that Wait let start ends
// in exactly one of OnSuccess, OnThrottle and OnFailure, so a meter over
// them (internal/timeline) counts the calls in flight back to zero.
func TestDo_EveryAttemptEndsInOneHook(t *testing.T) {
	tests := []struct {
		name string
		errs []error
	}{
		{name: "success", errs: nil},
		{name: "throttles then success", errs: []error{errThrottle, errThrottle}},
		{name: "internal errors then success", errs: []error{errInternal, errReset}},
		{name: "permanent", errs: []error{errInvalid}},
		{name: "not found", errs: []error{errNotFound}},
		{name: "out of attempts", errs: []error{errInternal, errInternal, errInternal, errInternal, errInternal, errInternal, errInternal, errInternal, errInternal, errInternal}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h harness
			l := h.loop(IAM)
			failures := 0
			l.OnFailure = func() { failures++ }
			call, _ := script(tc.errs...)
			res := Do(context.Background(), l, call)
			if ended := len(h.successes) + h.throttles + failures; ended != h.waits || ended != res.Attempts {
				t.Fatalf("waits %d, attempts %d, ended %d (ok %d, throttled %d, failed %d)",
					h.waits, res.Attempts, ended, len(h.successes), h.throttles, failures)
			}
		})
	}
	t.Run("cancelled during the call", func(t *testing.T) {
		var h harness
		l := h.loop(IAM)
		failures := 0
		l.OnFailure = func() { failures++ }
		ctx, cancel := context.WithCancel(context.Background())
		Do(ctx, l, func(context.Context) error { cancel(); return errInternal })
		if failures != 1 || h.waits != 1 {
			t.Fatalf("failures %d waits %d, want 1 and 1", failures, h.waits)
		}
	})
}

// BeforeFirst runs once, after the first token and before the first call,
// whatever the retries; when it fails no call is made and Do says why.
func TestDo_BeforeFirst(t *testing.T) {
	journal := errors.New("disk full")
	tests := []struct {
		name      string
		before    error
		errs      []error
		calls     int
		attempts  int
		unsent    error
		failures  int
		wantClass Class
	}{
		{name: "once before the first of three attempts", errs: []error{errInternal, errThrottle}, calls: 3, attempts: 3, wantClass: OK},
		{name: "its error sends nothing", before: journal, errs: []error{errInternal}, calls: 0, attempts: 0, unsent: journal, failures: 1, wantClass: Fatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &harness{}
			l := h.loop(IAM)
			var order []string
			failures := 0
			l.OnFailure = func() { failures++ }
			wait := l.Wait
			l.Wait = func(ctx context.Context) error { order = append(order, "wait"); return wait(ctx) }
			l.BeforeFirst = func() error { order = append(order, "before"); return tt.before }
			call, n := script(tt.errs...)
			r := Do(t.Context(), l, func(ctx context.Context) error { order = append(order, "call"); return call(ctx) })
			if *n != tt.calls || r.Attempts != tt.attempts || r.Class != tt.wantClass || !errors.Is(r.Unsent, tt.unsent) || (tt.unsent == nil) != (r.Unsent == nil) {
				t.Fatalf("calls %d attempts %d class %v unsent %v, want %d %d %v %v", *n, r.Attempts, r.Class, r.Unsent, tt.calls, tt.attempts, tt.wantClass, tt.unsent)
			}
			if befores := slices.Index(order, "before"); befores != 1 || slices.Contains(order[befores+1:], "before") {
				t.Errorf("order %v: want before once, right after the first wait", order)
			}
			if tt.unsent != nil && failures != tt.failures {
				t.Errorf("OnFailure %d times, want %d: it ends what Wait let start", failures, tt.failures)
			}
		})
	}
}
