package s3sync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var reportURL = URL{Bucket: "cogsweep-test", Key: "runs/leavers.report.ndjson"}

// fileLog is a local intent log: one line per intent, like the journal.
type fileLog struct {
	t     *testing.T
	path  string
	mu    sync.Mutex
	calls int
}

func (l *fileLog) Intent(row int, read string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, `{"k":"i","r":%d,"s":"%s"}`+"\n", row, read)
	return err
}

func (l *fileLog) Sync() error { return nil }

type syncRig struct {
	s              *Store
	f              *fakeS3
	lease          *Lease
	ckpt, rep      *Mirror
	y              *Syncer
	journal        *fileLog
	reportPath     string
	reportMu       sync.Mutex
	ckptDir, repDr string
}

// newRig opens both mirrors under a lease, as a pod does, and starts a
// Syncer.
func newRig(t *testing.T, f *fakeS3) *syncRig {
	t.Helper()
	s := New(f, Options{Attempts: 3})
	r := &syncRig{s: s, f: f}
	var err error
	if r.lease, err = s.AcquireLease(t.Context(), testURL, LeaseOptions{TTL: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r.ckptDir, r.repDr = filepath.Join(dir, "c"), filepath.Join(dir, "r")
	for _, d := range []string{r.ckptDir, r.repDr} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if r.ckpt, err = s.OpenMirror(t.Context(), testURL, filepath.Join(r.ckptDir, "leavers.checkpoint"), 4); err != nil {
		t.Fatal(err)
	}
	if r.rep, err = s.OpenMirror(t.Context(), reportURL, filepath.Join(r.repDr, "leavers.report.ndjson"), 4); err != nil {
		t.Fatal(err)
	}
	r.journal = &fileLog{t: t, path: r.ckpt.Local()}
	r.reportPath = r.rep.Local()
	r.y = s.NewSyncer(r.lease, []*Mirror{r.ckpt, r.rep}, SyncOptions{Interval: time.Hour, MinGap: 20 * time.Millisecond})
	if err := r.y.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.y.Close(t.Context()) })
	return r
}

func (r *syncRig) outcome(t *testing.T, row int) {
	r.reportMu.Lock()
	defer r.reportMu.Unlock()
	appendLines(t, r.reportPath, fmt.Sprintf(`{"row":%d,"outcome":"disabled"}`+"\n", row))
}

// kill abandons the rig the way SIGKILL does: from now on nothing it
// sends reaches S3, and it releases nothing.
func (r *syncRig) kill() {
	r.f.mu.Lock()
	r.f.before = func(op, key string) error { return apiError(403, "PodIsGone") }
	r.f.mu.Unlock()
	r.y.stopLoop()
	r.f.mu.Lock()
	r.f.before = nil
	r.f.mu.Unlock()
	r.lease.mu.Lock()
	r.lease.err = errors.New("killed")
	r.lease.mu.Unlock()
	close(r.lease.stop)
	<-r.lease.done
}

// TestSyncer_KillLosesOnlyInFlight plays workers that each write the
// outcome of their previous row, then the intent of the next, then "call".
// After a kill, S3 must hold every intent whose Intent returned and every
// outcome written before the same worker's next Intent returned: at most
// one row per worker has an intent in S3 and no outcome.
func TestSyncer_KillLosesOnlyInFlight(t *testing.T) {
	f := newFake()
	r := newRig(t, f)
	intents := r.y.Intents(r.journal)
	const workers, perWorker = 6, 15
	var (
		mu        sync.Mutex
		confirmed = map[int]bool{} // Intent returned: the call may be made
		written   = map[int]bool{} // outcome written locally
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				row := w*perWorker + i + 1
				if err := intents.Intent(row, "enabled"); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				confirmed[row] = true
				mu.Unlock()
				if i == perWorker-1 {
					return // killed during this row's call
				}
				r.outcome(t, row)
				mu.Lock()
				written[row] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.kill()

	// A new pod reads S3 back.
	ckpt := readBack(t, r.s, testURL)
	rep := readBack(t, r.s, reportURL)
	var inFlight int
	for row := range confirmed {
		if !strings.Contains(ckpt, fmt.Sprintf(`"r":%d,`, row)) {
			t.Errorf("row %d: Intent returned but the intent is not in S3", row)
		}
		if !strings.Contains(rep, fmt.Sprintf(`"row":%d,`, row)) {
			inFlight++
			if written[row] {
				// Written, then the same worker's next Intent returned.
				t.Errorf("row %d: outcome written before the worker's next intent was confirmed, but not in S3", row)
			}
		}
	}
	if inFlight > workers {
		t.Errorf("%d rows with an intent in S3 and no outcome, more than the %d workers", inFlight, workers)
	}
	// Callers arriving together share an upload.
	if puts, n := f.count("PutObject"), workers*perWorker; puts >= 2*n {
		t.Errorf("%d puts for %d intents: uploads are not grouped", puts, n)
	}
}

func TestSyncer_LostLeaseStopsIntents(t *testing.T) {
	f := newFake()
	r := newRig(t, f)
	intents := r.y.Intents(r.journal)
	if err := intents.Intent(1, ""); err != nil {
		t.Fatal(err)
	}
	f.set(LeaseURL(testURL).Key, []byte(`{"holder":"pod-b"}`), map[string]string{metaHolder: "pod-b"})
	select {
	case <-r.lease.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("lease loss not noticed")
	}
	before := r.journal.calls
	if err := intents.Intent(2, ""); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Intent after the lease was lost: %v, want ErrLeaseLost", err)
	}
	if r.journal.calls != before {
		t.Error("the intent was journaled after the lease was lost")
	}
	puts := f.count("PutObject")
	if err := r.y.Finish(t.Context()); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Finish after the lease was lost: %v", err)
	}
	if got := f.count("PutObject"); got != puts {
		t.Errorf("%d uploads after the lease was lost", got-puts)
	}
}

func TestSyncer_FinishLeavesOneObjectEach(t *testing.T) {
	f := newFake()
	r := newRig(t, f)
	intents := r.y.Intents(r.journal)
	for row := 1; row <= 9; row++ {
		if err := intents.Intent(row, ""); err != nil {
			t.Fatal(err)
		}
		r.outcome(t, row)
	}
	if err := r.y.Finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.y.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, u := range []URL{testURL, reportURL} {
		if segs := f.keys(u.Key + segInfix); len(segs) != 0 {
			t.Errorf("%s: segments left: %v", u, segs)
		}
		got, _ := f.data(u.Key)
		want := readFile(t, map[URL]string{testURL: r.ckpt.Local(), reportURL: r.rep.Local()}[u])
		if string(got) != want {
			t.Errorf("%s holds %q, want the local file %q", u, got, want)
		}
	}
	if _, ok := f.data(LeaseURL(testURL).Key); ok {
		t.Error("lease not released by Close")
	}
	if err := r.y.Durable(); !errors.Is(err, ErrStopped) && !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Durable after Close: %v", err)
	}
}

func TestSyncer_UploadsArchives(t *testing.T) {
	f := newFake()
	r := newRig(t, f)
	appendLines(t, r.ckpt.Local(), "old run\n")
	if err := r.y.Durable(); err != nil {
		t.Fatal(err)
	}
	// checkpoint.Reset: the file is renamed aside and a new one started.
	archived := r.ckpt.Local() + ".20250102T030405Z"
	if err := os.Rename(r.ckpt.Local(), archived); err != nil {
		t.Fatal(err)
	}
	appendLines(t, r.ckpt.Local(), "new run\n")
	if err := r.y.Durable(); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.data(testURL.Key + ".20250102T030405Z"); string(got) != "old run\n" {
		t.Errorf("archive in S3 holds %q", got)
	}
	if got := readBack(t, r.s, testURL); got != "new run\n" {
		t.Errorf("checkpoint in S3 holds %q", got)
	}
	// The lock file and others are not archives.
	appendLines(t, r.ckpt.Local()+".lock", "")
	if err := r.y.Durable(); err != nil {
		t.Fatal(err)
	}
	if got := f.keys(testURL.Key + ".l"); len(got) != 1 { // the lease only
		t.Errorf("unexpected objects %v", got)
	}
}
