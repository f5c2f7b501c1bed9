package checkpoint

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

func newPath(t *testing.T) string { return filepath.Join(t.TempDir(), "run.checkpoint") }

func testHeader() Header {
	return Header{Fingerprint: "sha256:abc", Action: "disable", Pool: "us-east-1_AbC", Input: "users.csv",
		Rows: 100, Options: map[string]string{"rate": "20"}, Guards: json.RawMessage(`{"max_users":{"limit":100}}`)}
}

func TestJournal_Lifecycle(t *testing.T) {
	path := newPath(t)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := j.Header(); ok {
		t.Fatal("new journal has a header")
	}
	if _, err := j.StartRun(); err == nil {
		t.Fatal("StartRun without a header must fail")
	}
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(testHeader()); err == nil {
		t.Fatal("second WriteHeader must fail")
	}
	n, err := j.StartRun()
	if err != nil || n != 1 {
		t.Fatalf("StartRun = %d, %v", n, err)
	}
	for _, c := range []struct {
		row  int
		read string
	}{{5, ReadEnabled}, {6, ReadNone}, {5, ReadDisabled}} {
		if err := j.Intent(c.row, c.read); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Intent(7, "maybe"); err == nil {
		t.Error("Intent accepted an unknown read result")
	}
	if err := j.Intent(0, ReadNone); err == nil {
		t.Error("Intent accepted row 0")
	}
	if err := j.End("done", ""); err == nil {
		t.Error("End accepted an unknown status")
	}
	if err := j.End(Interrupted, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Intent(1, ReadNone); !errors.Is(err, ErrClosed) {
		t.Errorf("Intent after Close = %v, want ErrClosed", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}

	// A second run resumes: same header, run 2, intents from both runs.
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	h, ok := j.Header()
	if !ok || h.Fingerprint != "sha256:abc" || h.Rows != 100 || h.Options["rate"] != "20" ||
		string(h.Guards) != `{"max_users":{"limit":100}}` || h.CreatedAt.IsZero() || h.V != Version {
		t.Fatalf("header = %+v", h)
	}
	st := j.State()
	if st.Runs != 1 || !st.Ended || st.LastStatus != Interrupted || st.LastReason != "SIGTERM" || !st.Unfinished() || st.Intents != 3 {
		t.Fatalf("state = %+v", st)
	}
	if n, err := j.StartRun(); err != nil || n != 2 {
		t.Fatalf("StartRun = %d, %v", n, err)
	}
	if j.State().Ended {
		t.Fatal("a started run is not ended")
	}
	if err := j.Intent(9, ReadAbsent); err != nil {
		t.Fatal(err)
	}
	m, err := j.Intents(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]string{5: ReadDisabled, 6: ReadNone, 9: ReadAbsent}; fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("intents = %v, want %v", m, want)
	}
	if err := j.End(Finished, ""); err != nil {
		t.Fatal(err)
	}
	if st := j.State(); !st.Finished() || st.Unfinished() {
		t.Fatalf("state = %+v, want finished", st)
	}
}

func TestJournal_ConcurrentIntents(t *testing.T) {
	j, err := Open(newPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				if err := j.Intent(g*each+i+1, ReadEnabled); err != nil {
					t.Error(err)
					return
				}
				if i%100 == 0 {
					if err := j.Sync(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	m, err := j.Intents(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Load(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != workers*each || st.Intents != workers*each || st.Skipped != 0 {
		t.Fatalf("%d intents, state %+v; want %d whole records", len(m), st, workers*each)
	}
}

func TestOpen_LockedBySecondOpen(t *testing.T) {
	path := newPath(t)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open err = %v, want ErrLocked", err)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.Path != path {
		t.Fatalf("err = %#v, want a LockedError naming %s", err, path)
	}
	if _, _, err := Restart(path, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("Restart while held = %v, want ErrLocked", err)
	}
	if s, err := Status(path); err != nil || !s.Locked {
		t.Fatalf("Status = %+v, %v; want locked", s, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Status(path); err != nil || s.Locked {
		t.Fatalf("Status after Close = %+v, %v; want unlocked", s, err)
	}
	j2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	j2.Close()
}

func TestOpen_LockReleasedWhenFDCloses(t *testing.T) {
	path := newPath(t)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Closing the descriptor without unlocking, as the kernel does for a
	// dying process, releases the lock.
	j.f.Close()
	j2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after the holder's fd closed: %v", err)
	}
	j2.Close()
}

const helperEnv = "COGSWEEP_CHECKPOINT_HELPER"

// TestHelperProcess is not a test: TestOpen_KilledHolderReleasesLock runs
// the test binary again with it to hold a lock in another process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	if _, err := Open(path); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	// Hold the lock until killed: stdin stays open until then.
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

func TestOpen_KilledHolderReleasesLock(t *testing.T) {
	path := newPath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q, %v", line, err)
	}
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Open while the helper holds the lock = %v, want ErrLocked", err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.String() != "signal: killed" {
		t.Fatalf("helper ended with %v, want killed", err)
	}
	// The kernel closed the helper's files before Wait returned.
	j, err := Open(path)
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	j.Close()
}

func TestStatus(t *testing.T) {
	path := copyFixture(t, "killed")
	s, err := Status(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Locked || s.Runs != 2 || s.Ended || s.LastStatus != Interrupted || s.Intents != 3 ||
		s.Header.Fingerprint != "sha256:1f2e" || s.Updated.IsZero() || s.Path != path {
		t.Fatalf("status = %+v", s)
	}
	if _, err := os.Stat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Error("Status created a lock file")
	}
	if _, err := Status(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing checkpoint: %v", err)
	}
	if _, err := Status(copyFixture(t, "truncated_header")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt checkpoint: %v", err)
	}
}

var archivedName = regexp.MustCompile(`\.\d{8}T\d{6}Z(-\d+)?$`)

func TestJournal_Reset(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.checkpoint")
	report := filepath.Join(dir, "run.report.ndjson")
	if err := os.WriteFile(report, []byte("report\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	if _, err := j.StartRun(); err != nil {
		t.Fatal(err)
	}
	if err := j.End(Finished, ""); err != nil {
		t.Fatal(err)
	}
	moved, err := j.Reset(nil, report, filepath.Join(dir, "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != 2 || !archivedName.MatchString(moved[0]) || moved[1] != report+moved[0][len(path):] {
		t.Fatalf("moved = %v", moved)
	}
	if st := j.State(); st.HasHeader || st.Runs != 0 {
		t.Fatalf("state after Reset = %+v", st)
	}
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock not kept across Reset: %v", err)
	}
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	if n, err := j.StartRun(); err != nil || n != 1 {
		t.Fatalf("StartRun after Reset = %d, %v", n, err)
	}
	old, err := Load(moved[0])
	if err != nil || !old.Finished() {
		t.Fatalf("archived checkpoint = %+v, %v", old, err)
	}
}

func TestRestart_CorruptCheckpoint(t *testing.T) {
	path := copyFixture(t, "truncated_header")
	if _, err := Open(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
	j, moved, err := Restart(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if len(moved) != 1 || !archivedName.MatchString(moved[0]) {
		t.Fatalf("moved = %v", moved)
	}
	if _, ok := j.Header(); ok {
		t.Fatal("restarted journal has a header")
	}
	if data, _ := os.ReadFile(moved[0]); string(data) != `{"kind":"checkpoint","v":1,"fingerprint":"sha2` {
		t.Fatalf("archived content = %q", data)
	}
}

func TestArchive_NeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 6, 7, 8, 9, 10, 0, time.FixedZone("x", 3600))
	stamp := "20250607T070910Z"
	a := filepath.Join(dir, "a")
	taken := []string{a + "." + stamp, a + "." + stamp + "-1"}
	for _, p := range append(taken, a) {
		if err := os.WriteFile(p, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	moved, err := archive(now, []string{a, filepath.Join(dir, "missing")})
	if err != nil {
		t.Fatal(err)
	}
	want := a + "." + stamp + "-2"
	if len(moved) != 1 || moved[0] != want {
		t.Fatalf("moved = %v, want [%s]", moved, want)
	}
	for _, p := range taken {
		if data, _ := os.ReadFile(p); string(data) != p {
			t.Errorf("%s was overwritten", p)
		}
	}
	if data, _ := os.ReadFile(want); string(data) != a {
		t.Errorf("archived content = %q", data)
	}
	if _, err := os.Stat(a); !errors.Is(err, os.ErrNotExist) {
		t.Error("original still there")
	}
}

// TestOpen_StateFileIsTheLock checks that what a user may delete under a
// live run cannot let a second run share the checkpoint.
func TestOpen_StateFileIsTheLock(t *testing.T) {
	tests := []struct {
		name string
		act  func(path string) error
		// wantSecond is what a second Open gives; wantSync what the
		// holder's next Sync gives.
		wantSecond, wantSync error
	}{
		{name: "the .lock file beside it removed",
			act: func(path string) error {
				if err := os.Remove(path + ".lock"); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				return nil
			},
			wantSecond: ErrLocked, wantSync: nil},
		{name: "the checkpoint itself removed: the holder stops",
			act:        os.Remove,
			wantSecond: nil, wantSync: ErrReplaced},
		{name: "the checkpoint replaced: the holder stops",
			act: func(path string) error {
				return os.Rename(path, path+".moved")
			},
			wantSecond: nil, wantSync: ErrReplaced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := newPath(t)
			j, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if err := j.WriteHeader(testHeader()); err != nil {
				t.Fatal(err)
			}
			if err := tt.act(path); err != nil {
				t.Fatal(err)
			}
			j2, err := Open(path)
			if j2 != nil {
				defer j2.Close()
			}
			if !errors.Is(err, tt.wantSecond) {
				t.Fatalf("second Open = %v, want %v", err, tt.wantSecond)
			}
			if err := j.Sync(); !errors.Is(err, tt.wantSync) {
				t.Fatalf("holder's Sync = %v, want %v", err, tt.wantSync)
			}
		})
	}
}

func TestJournal_ResetKeepsThePathLocked(t *testing.T) {
	path := newPath(t)
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.WriteHeader(testHeader()); err != nil {
		t.Fatal(err)
	}
	moved, err := j.Reset(nil)
	if err != nil || len(moved) != 1 {
		t.Fatalf("Reset = %v, %v", moved, err)
	}
	if st, err := Status(path); err != nil || !st.Locked {
		t.Fatalf("new checkpoint: %+v, %v; want locked", st, err)
	}
	if held, err := lockHeld(moved[0]); err != nil || held {
		t.Fatalf("archived checkpoint held = %v, %v; want free", held, err)
	}
	if err := j.Sync(); err != nil {
		t.Fatalf("Sync after Reset: %v", err)
	}
}
