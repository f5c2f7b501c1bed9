package s3sync

import (
	"strings"
	"testing"
	"time"
)

var timelineURL = URL{Bucket: "cogsweep-test", Key: "runs/leavers.checkpoint.timeline"}

// A side mirror (the timeline) reaches S3 on its own, under the lease, and
// is one object at the end; while its uploads fail, intents still become
// durable and the run goes on.
func TestSyncer_SideMirror(t *testing.T) {
	tests := []struct {
		name     string
		failSide bool
	}{
		{name: "uploaded without a Durable"},
		{name: "its failures stop no intent", failSide: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s := New(f, Options{Attempts: 1})
			lease, err := s.AcquireLease(t.Context(), testURL, LeaseOptions{TTL: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ckpt, err := s.OpenMirror(t.Context(), testURL, dir+"/leavers.checkpoint", 4)
			if err != nil {
				t.Fatal(err)
			}
			side, err := s.OpenMirror(t.Context(), timelineURL, dir+"/leavers.checkpoint.timeline", 4)
			if err != nil {
				t.Fatal(err)
			}
			if tt.failSide {
				f.before = func(op, key string) error {
					if op == "PutObject" && strings.HasPrefix(key, timelineURL.Key) {
						return apiError(503, "SlowDown")
					}
					return nil
				}
			}
			y := s.NewSyncer(lease, []*Mirror{ckpt}, SyncOptions{Interval: 20 * time.Millisecond, MinGap: time.Millisecond, Side: []*Mirror{side}})
			if err := y.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { y.Close(t.Context()) })
			appendLines(t, side.Local(), `{"kind":"cogsweep-timeline","v":1}`+"\n", "[1,0,0,0,0]\n")
			intents := y.Intents(&fileLog{t: t, path: ckpt.Local()})
			if err := intents.Intent(1, ""); err != nil {
				t.Fatalf("intent with the side mirror's uploads failing: %v", err)
			}
			if tt.failSide {
				if got, ok := f.data(timelineURL.Key); ok {
					t.Fatalf("the failing side mirror is in S3: %q", got)
				}
				return
			}
			deadline := time.Now().Add(5 * time.Second)
			for readBack(t, s, timelineURL) != readFile(t, side.Local()) {
				if time.Now().After(deadline) {
					t.Fatalf("S3 holds %q of the timeline, want %q", readBack(t, s, timelineURL), readFile(t, side.Local()))
				}
				time.Sleep(10 * time.Millisecond)
			}
			appendLines(t, side.Local(), "[2,0,0,0,0]\n")
			if err := y.Finish(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.data(timelineURL.Key); string(got) != readFile(t, side.Local()) {
				t.Errorf("after Finish S3 holds %q, want the whole timeline as one object", got)
			}
		})
	}
}

// Settle leaves one object even when the lines since the last base are not
// yet in any segment: they go into the base.
func TestMirror_SettleFoldsNewLinesIntoTheBase(t *testing.T) {
	s, f := newTestStore(t)
	m := openMirror(t, s, 4)
	appendLines(t, m.Local(), "a\n")
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendLines(t, m.Local(), "b\n")
	if err := m.Settle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.data(testURL.Key); string(got) != "a\nb\n" || len(segObjects(f)) != 0 {
		t.Errorf("base %q, segments %v; want the whole file as the base and no segment", got, segObjects(f))
	}
}
