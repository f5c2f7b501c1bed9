package s3sync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var testURL = URL{Bucket: "cogsweep-test", Key: "runs/leavers.checkpoint"}

// appendLines appends whole lines to path with one write each, like the
// journal and the report writer.
func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readBack downloads u the way a new pod does and returns the content.
func readBack(t *testing.T, s *Store, u URL) string {
	t.Helper()
	local := filepath.Join(t.TempDir(), "copy")
	if _, err := s.OpenMirror(t.Context(), u, local, 0); err != nil {
		t.Fatalf("read back %s: %v", u, err)
	}
	return readFile(t, local)
}

func openMirror(t *testing.T, s *Store, fanout int) *Mirror {
	t.Helper()
	m, err := s.OpenMirror(t.Context(), testURL, filepath.Join(t.TempDir(), "ckpt"), fanout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func segObjects(f *fakeS3) []string { return f.keys(testURL.Key + segInfix) }

func TestMirror_NothingInS3(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	if _, err := os.Stat(m.Local()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("local file exists for an object S3 does not hold: %v", err)
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.count("PutObject"); got != 0 {
		t.Errorf("Sync with no file anywhere made %d puts", got)
	}
}

func TestMirror_SegmentsReadBack(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	var want strings.Builder
	for i := range 5 {
		line := fmt.Sprintf(`{"k":"i","r":%d,"s":""}`+"\n", i+1)
		appendLines(t, m.Local(), line)
		want.WriteString(line)
		if err := m.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := readBack(t, s, testURL); got != want.String() {
			t.Fatalf("after sync %d S3 holds %q, want %q", i, got, want.String())
		}
	}
	// The first sync made the base; each later one a segment.
	if got := len(segObjects(f)); got != 4 {
		t.Errorf("%d segment objects, want 4: %v", got, segObjects(f))
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.count("PutObject"); got != 5 {
		t.Errorf("a Sync with nothing new uploaded: %d puts, want 5", got)
	}
}

func TestMirror_TornLineStaysLocal(t *testing.T) {
	s, _ := newTestStore(t)
	m := openMirror(t, s, 0)
	appendLines(t, m.Local(), "one\n", "tw")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, s, testURL); got != "one\n" {
		t.Fatalf("S3 holds %q, want only the whole line", got)
	}
	appendLines(t, m.Local(), "o\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, s, testURL); got != "one\ntwo\n" {
		t.Fatalf("S3 holds %q, want %q", got, "one\ntwo\n")
	}
}

func TestMirror_MergesSegments(t *testing.T) {
	s, f := newTestStore(t)
	const fanout = 3
	m := openMirror(t, s, fanout)
	var want strings.Builder
	for i := range 40 {
		line := fmt.Sprintf("line %d\n", i)
		appendLines(t, m.Local(), line)
		want.WriteString(line)
		if err := m.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := m.Collect(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// 39 segments in base 3 is 1110: at most fanout-1 per level.
	if got := m.Segments(); got > 3*(fanout-1) {
		t.Errorf("%d live segments after 39 appends with fanout %d", got, fanout)
	}
	if got := len(segObjects(f)); got != m.Segments() {
		t.Errorf("%d segment objects in S3, %d live: Collect left garbage", got, m.Segments())
	}
	if got := readBack(t, s, testURL); got != want.String() {
		t.Fatalf("read back %q, want %q", got, want.String())
	}
}

func TestMirror_ReplacedFileBecomesNewBase(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendLines(t, m.Local(), "b\n", "c\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A compaction: a new file renamed over the old one.
	tmp := m.Local() + ".new"
	appendLines(t, tmp, "c\n")
	if err := os.Rename(tmp, m.Local()); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, s, testURL); got != "c\n" {
		t.Fatalf("after the replacement S3 holds %q, want %q", got, "c\n")
	}
	if err := m.Collect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := segObjects(f); len(got) != 0 {
		t.Errorf("old segments left after Collect: %v", got)
	}
}

func TestMirror_ArchivedFileEmptiesObject(t *testing.T) {
	s, _ := newTestStore(t)
	m := openMirror(t, s, 0)
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(m.Local(), m.Local()+".20250101T000000Z"); err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, s, testURL); got != "" {
		t.Fatalf("S3 holds %q for a file that is gone, want it empty", got)
	}
}

func TestMirror_SettleLeavesOneObject(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendLines(t, m.Local(), "b\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Collect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := segObjects(f); len(got) != 0 {
		t.Errorf("segments left after Settle and Collect: %v", got)
	}
	if got, _ := f.data(testURL.Key); string(got) != "a\nb\n" {
		t.Errorf("base holds %q, want the whole file", got)
	}
}

func TestMirror_ResumeRebasesAndFencesTheOldWriter(t *testing.T) {
	s, f := newTestStore(t)
	old := openMirror(t, s, 0)
	appendLines(t, old.Local(), "a\n")
	if err := old.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendLines(t, old.Local(), "b\n")
	if err := old.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}

	// A new pod downloads base and segment, then writes a new base.
	cur := openMirror(t, s, 0)
	if got := readFile(t, cur.Local()); got != "a\nb\n" {
		t.Fatalf("resumed copy %q, want %q", got, "a\nb\n")
	}
	appendLines(t, cur.Local(), "c\n")
	if err := cur.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}

	// The old pod wakes up: its segment lands in a dead epoch, and its base
	// write is refused.
	appendLines(t, old.Local(), "stale\n")
	if err := old.Sync(t.Context()); err != nil {
		t.Fatalf("segment of the old epoch: %v", err)
	}
	if got := readBack(t, s, testURL); got != "a\nb\nc\n" {
		t.Fatalf("S3 holds %q, want the new writer's content only", got)
	}
	if err := old.Settle(t.Context()); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("the old writer's base write: %v, want ErrPrecondition", err)
	}
	if err := old.Sync(t.Context()); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("a fenced mirror synced again: %v", err)
	}
	if got, _ := f.data(testURL.Key); !strings.HasPrefix(string(got), "a\nb\nc\n") {
		t.Fatalf("base overwritten by the stale writer: %q", got)
	}
}

func TestMirror_AmbiguousWriteRecognised(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The segment put is applied but its answer lost; the retry meets 412.
	lostOnce := true
	f.lost = func(op, key string) bool {
		if op == "PutObject" && strings.Contains(key, segInfix) && lostOnce {
			lostOnce = false
			return true
		}
		return false
	}
	appendLines(t, m.Local(), "b\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatalf("Sync after a lost answer: %v", err)
	}
	if lostOnce {
		t.Fatal("the test's lost answer never happened")
	}
	if got := readBack(t, s, testURL); got != "a\nb\n" {
		t.Fatalf("S3 holds %q", got)
	}
}

func TestMirror_TransientFailuresRetried(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	fails := 2
	f.before = func(op, key string) error {
		if op == "PutObject" && fails > 0 {
			fails--
			return apiError(503, "SlowDown")
		}
		return nil
	}
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, s, testURL); got != "a\n" {
		t.Fatalf("S3 holds %q", got)
	}
}

func TestMirror_AccessDeniedNotRetried(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 0)
	f.before = func(op, key string) error { return apiError(403, "AccessDenied") }
	appendLines(t, m.Local(), "a\n")
	err := m.Sync(t.Context())
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Sync: %v, want AccessDenied", err)
	}
	if got := f.count("PutObject"); got != 1 {
		t.Errorf("%d attempts of a refused put, want 1", got)
	}
}

func TestChainOf(t *testing.T) {
	const key = "k"
	seg := func(epoch string, a, b int64) string { return segKey(key, epoch, a, b) }
	tests := []struct {
		name        string
		keys        []string
		size        int64
		wantChain   [][2]int64
		wantGarbage int
	}{
		{name: "none", size: 10},
		{name: "contiguous", keys: []string{seg("e", 10, 20), seg("e", 20, 25)}, size: 10,
			wantChain: [][2]int64{{10, 20}, {20, 25}}},
		{name: "merged covers small", keys: []string{seg("e", 10, 20), seg("e", 10, 30), seg("e", 20, 30), seg("e", 30, 31)}, size: 10,
			wantChain: [][2]int64{{10, 30}, {30, 31}}, wantGarbage: 2},
		{name: "other epoch is garbage", keys: []string{seg("old", 10, 20), seg("e", 10, 12)}, size: 10,
			wantChain: [][2]int64{{10, 12}}, wantGarbage: 1},
		{name: "gap stops the chain", keys: []string{seg("e", 10, 20), seg("e", 21, 30)}, size: 10,
			wantChain: [][2]int64{{10, 20}}, wantGarbage: 1},
		{name: "not a segment key", keys: []string{key + segInfix + "junk"}, size: 0, wantGarbage: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain, garbage := chainOf(tt.keys, key, "e", tt.size)
			var got [][2]int64
			for _, s := range chain {
				got = append(got, [2]int64{s.start, s.end})
			}
			if !slices.Equal(got, tt.wantChain) {
				t.Errorf("chain %v, want %v", got, tt.wantChain)
			}
			if len(garbage) != tt.wantGarbage {
				t.Errorf("garbage %v, want %d keys", garbage, tt.wantGarbage)
			}
		})
	}
}

// unanswered makes the next matching put land without an answer and the
// retries of that call fail unapplied, so the Store gives up on a write that
// S3 did apply.
func unanswered(f *fakeS3, match func(key string) bool, attempts int) {
	n := 0
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = func(op, key string) bool {
		if op != "PutObject" || !match(key) {
			return false
		}
		n++
		return n == 1
	}
	f.before = func(op, key string) error {
		if op == "PutObject" && match(key) && n >= 1 && n < attempts {
			n++
			return apiError(503, "SlowDown")
		}
		return nil
	}
}

func heal(f *fakeS3) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost, f.before = nil, nil
}

func TestMirror_UnansweredWritesAreRecognisedLater(t *testing.T) {
	tests := []struct {
		name  string
		match func(key string) bool
		first bool // the unanswered write is the first one (the base)
	}{
		{name: "segment", match: func(k string) bool { return strings.Contains(k, segInfix) }},
		{name: "base", match: func(k string) bool { return k == testURL.Key }, first: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newTestStore(t)
			m := openMirror(t, s, 0)
			appendLines(t, m.Local(), "a\n")
			if !tt.first {
				if err := m.Sync(t.Context()); err != nil {
					t.Fatal(err)
				}
				appendLines(t, m.Local(), "b\n")
			}
			unanswered(f, tt.match, 4)
			if err := m.Sync(t.Context()); err == nil {
				t.Fatal("Sync succeeded although every answer was lost")
			}
			heal(f)
			want := readFile(t, m.Local())
			if err := m.Sync(t.Context()); err != nil {
				t.Fatalf("Sync after the lost answers: %v (taken for someone else's write)", err)
			}
			appendLines(t, m.Local(), "c\n")
			if err := m.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := readBack(t, s, testURL); got != want+"c\n" {
				t.Fatalf("S3 holds %q, want %q", got, want+"c\n")
			}
		})
	}
}
