package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

const fixtures = "../../fixtures/checkpoint"

func copyFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name, "checkpoint.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checkpoint.ndjson")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var recoveryCases = []struct {
	name    string
	want    State // compared without Header and hdrLen
	intents map[int]string
	wantErr error
}{
	{name: "empty", intents: map[int]string{}},
	{name: "finished", want: State{HasHeader: true, Runs: 1, Ended: true, LastStatus: Finished, Intents: 2},
		intents: map[int]string{1: ReadEnabled, 2: ReadNone}},
	{name: "killed", want: State{HasHeader: true, Runs: 2, Ended: false, LastStatus: Interrupted, LastReason: "SIGTERM", Intents: 3},
		intents: map[int]string{1: ReadDisabled, 3: ReadAbsent}},
	{name: "torn_tail", want: State{HasHeader: true, Runs: 1, Intents: 1, Torn: true},
		intents: map[int]string{7: ReadEnabled}},
	{name: "truncated_header", wantErr: ErrCorrupt},
	{name: "garbage_line", want: State{HasHeader: true, Runs: 1, Ended: true, LastStatus: Aborted, LastReason: "max-users guard", Intents: 1, Skipped: 6,
		Corrupt: fsutil.BadLines{Count: 6, First: []int{3, 5, 6, 7, 8, 9}}},
		intents: map[int]string{4: ReadEnabled}},
	{name: "not_a_checkpoint", wantErr: ErrCorrupt},
	{name: "header_only", want: State{HasHeader: true}, intents: map[int]string{}},
	{name: "future_version", wantErr: ErrVersion},
	{name: "foreign_encoding", want: State{HasHeader: true, Runs: 1, Intents: 3, Skipped: 1,
		Corrupt: fsutil.BadLines{Count: 1, First: []int{6}}},
		intents: map[int]string{4: ReadEnabled, 9: ReadAbsent}},
}

func TestLoad_Recovery(t *testing.T) {
	for _, tt := range recoveryCases {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFixture(t, tt.name)
			before, _ := os.ReadFile(path)
			st, err := Load(path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkState(t, st, tt.want)
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Load modified the file")
			}
		})
	}
}

func checkState(t *testing.T, got, want State) {
	t.Helper()
	if got.HasHeader && got.Header.Kind != HeaderKind {
		t.Errorf("header = %+v", got.Header)
	}
	got.Header, got.hdrLen, got.EndedAt = Header{}, 0, got.EndedAt.UTC()
	want.EndedAt = got.EndedAt // times are checked where they matter
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state = %+v\n want %+v", got, want)
	}
}

func TestOpen_Recovery(t *testing.T) {
	for _, tt := range recoveryCases {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFixture(t, tt.name)
			before, _ := os.ReadFile(path)
			j, err := Open(path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
					t.Error("a refused checkpoint was modified")
				}
				// The lock was released: Open again fails the same way.
				if _, err := Open(path); !errors.Is(err, tt.wantErr) {
					t.Errorf("second Open err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			checkState(t, j.State(), tt.want)
			got, err := j.Intents(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.intents) {
				t.Errorf("intents = %v, want %v", got, tt.intents)
			}
			after, _ := os.ReadFile(path)
			if tt.want.Torn {
				if len(after) == 0 || after[len(after)-1] != '\n' || !bytes.HasPrefix(before, after) {
					t.Errorf("torn tail not cut cleanly: %q", after)
				}
			} else if !bytes.Equal(before, after) {
				t.Error("Open modified a checkpoint without a torn tail")
			}
		})
	}
}

func TestIntents_KeepFilter(t *testing.T) {
	path := copyFixture(t, "killed")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, err := j.Intents(func(row int) bool { return row != 3 })
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]string{1: ReadDisabled}; !reflect.DeepEqual(got, want) {
		t.Fatalf("intents = %v, want %v", got, want)
	}
}

func TestParseIntent_RoundTrip(t *testing.T) {
	for _, row := range []int{1, 9, 10, 123456789, 999_999_999_999_999} {
		for _, read := range []string{ReadEnabled, ReadDisabled, ReadAbsent, ReadNone} {
			line := appendIntent(nil, row, read)
			gotRow, gotRead, ok := parseIntent(bytes.TrimSuffix(line, []byte("\n")))
			if !ok || gotRow != row || gotRead != read {
				t.Errorf("%s: got %d %q %v", line, gotRow, gotRead, ok)
			}
		}
	}
	for _, bad := range []string{`{"k":"i","r":0,"s":""}`, `{"k":"i","r":1,"s":"x"}`, `{"k":"i","r":1,"s":""} `,
		`{"k":"i","r":,"s":""}`, `{"k":"i","r":1234567890123456,"s":""}`, `{"k":"i","r":1,"s":"enabled"`} {
		if _, _, ok := parseIntent([]byte(bad)); ok {
			t.Errorf("parseIntent accepted %s", bad)
		}
	}
}

func FuzzLoad(f *testing.F) {
	entries, _ := os.ReadDir(fixtures)
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(fixtures, e.Name(), "checkpoint.ndjson")); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := load(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			if st.HasHeader {
				t.Fatal("state with a header returned with an error")
			}
			return
		}
		if len(data) > 0 != st.HasHeader {
			t.Fatalf("HasHeader = %v for %d bytes", st.HasHeader, len(data))
		}
		if !st.HasHeader {
			return
		}
		m, err := intents(bytes.NewReader(data[st.hdrLen:]), st.hdrLen, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) > st.Intents {
			t.Fatalf("%d intent rows from %d intent records", len(m), st.Intents)
		}
		for row, read := range m {
			if _, ok := readValue([]byte(read)); row < 1 || !ok {
				t.Fatalf("bad intent %d %q", row, read)
			}
		}
		if lines := bytes.Count(data, []byte("\n")); st.Intents+st.Skipped > lines {
			t.Fatalf("%d records counted from %d lines", st.Intents+st.Skipped, lines)
		}
	})
}

func BenchmarkIntents(b *testing.B) {
	const n = 500_000
	path := filepath.Join(b.TempDir(), "checkpoint.ndjson")
	j, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	if err := j.WriteHeader(Header{Fingerprint: "x", Action: "disable", Rows: n}); err != nil {
		b.Fatal(err)
	}
	if _, err := j.StartRun(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for i := range n {
		buf.Write(appendIntent(nil, i+1, []string{ReadEnabled, ReadNone}[i%2]))
	}
	if _, err := j.f.Write(buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	j.size += int64(buf.Len())
	b.ReportAllocs()
	for b.Loop() {
		// Keep one row in 100: the unsettled rows of a resumed run.
		m, err := j.Intents(func(row int) bool { return row%100 == 0 })
		if err != nil {
			b.Fatal(err)
		}
		if len(m) != n/100 {
			b.Fatal(fmt.Sprint("got ", len(m)))
		}
	}
}

// Corrupt lines are listed by number for the one warning a reader gives;
// the torn JSON prefix a kill mid-append leaves is not among them, while a
// tail of zeros or garbage is.
func TestLoad_CorruptLines(t *testing.T) {
	header := `{"kind":"checkpoint","v":1,"fingerprint":"f","action":"disable","rows":9}` + "\n"
	run := `{"k":"run","n":1,"pid":1,"at":"2025-01-02T03:04:06Z"}` + "\n"
	intent := `{"k":"i","r":2,"s":"enabled"}` + "\n"
	tests := []struct {
		name    string
		content string
		want    fsutil.BadLines
		torn    bool
	}{
		{name: "clean", content: header + run + intent},
		{name: "torn last append is no corruption", content: header + run + intent + `{"k":"i","r":3,"s":"ena`, torn: true},
		{name: "middle line", content: header + run + "not json\n" + intent, want: fsutil.BadLines{Count: 1, First: []int{3}}},
		{name: "zeros appended", content: header + run + intent + strings.Repeat("\x00", 512), torn: true,
			want: fsutil.BadLines{Count: 1, First: []int{4}}},
		{name: "middle line and zeros appended", content: header + run + "\x00\x00\n" + intent + strings.Repeat("\x00", 64), torn: true,
			want: fsutil.BadLines{Count: 2, First: []int{3, 5}}},
		{name: "more than listed", content: header + strings.Repeat("x\n", 13) + intent,
			want: fsutil.BadLines{Count: 13, First: []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.checkpoint")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(st.Corrupt, tc.want) || st.Torn != tc.torn {
				t.Fatalf("corrupt %+v torn %v, want %+v torn %v", st.Corrupt, st.Torn, tc.want, tc.torn)
			}
		})
	}
}
