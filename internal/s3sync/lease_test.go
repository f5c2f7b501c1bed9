package s3sync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const testTTL = 150 * time.Millisecond

func acquire(t *testing.T, s *Store, holder string) *Lease {
	t.Helper()
	l, err := s.AcquireLease(t.Context(), testURL, LeaseOptions{TTL: testTTL, Holder: holder})
	if err != nil {
		t.Fatalf("acquire as %s: %v", holder, err)
	}
	t.Cleanup(func() { l.Release(t.Context()) })
	return l
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLease_AcquireRenewRelease(t *testing.T) {
	s, f := newTestStore(t)
	l := acquire(t, s, "pod-a")
	key := LeaseURL(testURL).Key
	if _, ok := f.data(key); !ok {
		t.Fatal("no lease object after acquire")
	}
	puts := f.count("PutObject")
	waitFor(t, "two renewals", func() bool { return f.count("PutObject") >= puts+2 })
	if err := l.Check(); err != nil {
		t.Fatalf("Check while renewing: %v", err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.data(key); ok {
		t.Fatal("lease object still there after Release")
	}
	if err := l.Check(); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Check after Release: %v", err)
	}
	// Released: the next run takes it at once.
	start := time.Now()
	acquire(t, s, "pod-b")
	if d := time.Since(start); d > testTTL {
		t.Errorf("taking a released lease took %s", d)
	}
}

func TestLease_HeldByLiveRun(t *testing.T) {
	s, _ := newTestStore(t)
	acquire(t, s, "pod-a")
	start := time.Now()
	var waitedFor string
	_, err := s.AcquireLease(t.Context(), testURL, LeaseOptions{TTL: testTTL, Holder: "pod-b", OnWait: func(h string) { waitedFor = h }})
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second acquire: %v, want a HeldError", err)
	}
	if d := time.Since(start); d < 2*testTTL {
		t.Errorf("gave up after %s, before two TTLs (%s)", d, 2*testTTL)
	}
	if held.Holder != "pod-a" || waitedFor != "pod-a" || !strings.Contains(err.Error(), "pod-a") {
		t.Errorf("error %q / OnWait %q do not name the holder pod-a", err, waitedFor)
	}
}

func TestLease_TakeOverAfterHolderStops(t *testing.T) {
	s, f := newTestStore(t)
	// A lease left by a pod that was killed: nobody renews it.
	f.set(LeaseURL(testURL).Key, []byte(`{"holder":"dead"}`), map[string]string{metaHolder: "dead-pod", metaTTL: "150"})
	start := time.Now()
	l := acquire(t, s, "pod-b")
	if d := time.Since(start); d < testTTL {
		t.Errorf("took over after %s, before the TTL (%s) passed", d, testTTL)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.data(LeaseURL(testURL).Key); !strings.Contains(string(got), "pod-b") {
		t.Errorf("lease holds %q after the takeover", got)
	}
}

func TestLease_LostWhenTakenOver(t *testing.T) {
	s, f := newTestStore(t)
	l := acquire(t, s, "pod-a")
	// Someone else writes the lease (a pod that thought pod-a dead).
	f.set(LeaseURL(testURL).Key, []byte(`{"holder":"pod-b"}`), map[string]string{metaHolder: "pod-b"})
	select {
	case <-l.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("renewal did not notice the takeover")
	}
	if err := l.Check(); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Check: %v, want ErrLeaseLost", err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.data(LeaseURL(testURL).Key); !strings.Contains(string(got), "pod-b") {
		t.Fatal("Release deleted the new holder's lease")
	}
}

func TestLease_StaleWhenRenewalsFail(t *testing.T) {
	s, f := newTestStore(t)
	l := acquire(t, s, "pod-a")
	f.mu.Lock()
	f.before = func(op, key string) error {
		if op == "PutObject" {
			return apiError(503, "ServiceUnavailable")
		}
		return nil
	}
	f.mu.Unlock()
	waitFor(t, "the lease to go stale", func() bool { return l.Check() != nil })
	if err := l.Check(); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Check: %v", err)
	}
}

func TestLease_UnansweredRenewalIsOurs(t *testing.T) {
	s, f := newTestStore(t)
	l := acquire(t, s, "pod-a")
	key := LeaseURL(testURL).Key
	puts := f.count("PutObject")
	unanswered(f, func(k string) bool { return k == key }, 4)
	waitFor(t, "the unanswered renewal and two more", func() bool { return f.count("PutObject") >= puts+6 })
	heal(f)
	puts = f.count("PutObject")
	waitFor(t, "renewals after the lost answer", func() bool { return f.count("PutObject") >= puts+2 })
	select {
	case <-l.Lost():
		t.Fatalf("lease taken for lost after its own write's answer was lost: %v", l.Check())
	default:
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}
