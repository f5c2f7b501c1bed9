package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// stdEncode is the reference: encoding/json with HTML escaping off.
func stdEncode(t testing.TB, r *Record) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// checkRecord asserts AppendRecord writes the bytes encoding/json writes and
// that both decode to the same record.
func checkRecord(t testing.TB, r *Record) {
	t.Helper()
	got := AppendRecord(nil, r)
	want := stdEncode(t, r)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendRecord mismatch\n got: %s\nwant: %s", got, want)
	}
	marshalled, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var a, b Record
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decode AppendRecord output %s: %v", got, err)
	}
	if err := json.Unmarshal(marshalled, &b); err != nil {
		t.Fatal(err)
	}
	if !a.At.Equal(b.At) {
		t.Fatalf("At: %v != %v", a.At, b.At)
	}
	a.At, b.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("decoded records differ\n got: %+v\nwant: %+v", a, b)
	}
}

func TestAppendRecord_MatchesEncodingJSON(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	tests := []struct {
		name string
		r    Record
	}{
		{name: "minimal", r: Record{}},
		{name: "typical", r: Record{Row: 17, Outcome: Disabled, Action: "disable", Username: "alice",
			UserPoolID: "us-east-1_AbC", Attempts: 1, DurationMS: 42, RequestID: "req-1", At: at}},
		{name: "transient failure", r: Record{Row: 3, Outcome: Failed, Transient: true, Action: "delete",
			ErrorCode: "TooManyRequestsException", Message: "Rate exceeded", Attempts: 8, At: at}},
		{name: "repeated", r: Record{Row: 9, Outcome: SelfDeleted, Repeated: true, TokenSHA256: "0123456789ab", At: at}},
		{name: "html characters kept", r: Record{Row: 1, Outcome: Invalid, Input: "a&b<c>@x.com", At: at}},
		{name: "quotes and backslashes", r: Record{Row: 1, Outcome: Invalid, Message: `say "hi" \ bye \\`, At: at}},
		{name: "all control characters", r: Record{Row: 1, Outcome: Invalid, Message: ctrlChars(), At: at}},
		{name: "invalid utf8", r: Record{Row: 1, Outcome: Invalid, Username: "a\xffb\xc3\x28c\xed\xa0\x80", At: at}},
		{name: "truncated utf8 at end", r: Record{Row: 1, Outcome: Invalid, Username: "ab\xe2\x82", At: at}},
		{name: "line and paragraph separators", r: Record{Row: 1, Outcome: Invalid, Message: "a\u2028b\u2029c", At: at}},
		{name: "del and non-ascii", r: Record{Row: 1, Outcome: Invalid, Message: "\x7fé漢字😀", At: at}},
		{name: "negative numbers", r: Record{Row: -5, Attempts: -1, DurationMS: -9, At: at}},
		{name: "max ints", r: Record{Row: 1<<63 - 1, DurationMS: -1 << 63, At: at}},
		{name: "zone offset", r: Record{Row: 1, Outcome: Deleted, At: at.In(time.FixedZone("x", -(9*3600 + 30*60)))}},
		{name: "year 0 and 9999", r: Record{Row: 1, At: time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{name: "year 9999", r: Record{Row: 1, At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{name: "would outcome", r: Record{Row: 2, Outcome: WouldPrefix + "delete", Action: "delete", At: at}},
		{name: "restored with subs and missing groups", r: Record{Row: 4, Outcome: Restored, Action: "restore", Username: "bob",
			OldSub: "11111111-1111-4111-8111-111111111111", NewSub: "22222222-2222-4222-8222-222222222222", MissingGroups: []string{"temp", `a"b`}, At: at}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRecord(t, &tt.r) })
	}
}

func ctrlChars() string {
	var b strings.Builder
	for c := 0; c < 0x20; c++ {
		b.WriteByte(byte(c))
	}
	return b.String()
}

func TestAppendRecord_Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		r := randomRecord(rng)
		checkRecord(t, &r)
	}
}

func randomRecord(rng *rand.Rand) Record {
	s := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		b := make([]byte, rng.IntN(24))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(256)) // any byte, including invalid UTF-8
			case 1:
				b[i] = byte(rng.IntN(0x20)) // control characters
			default:
				const alphabet = `abc"\<>&/ é` // é adds partial runes when cut
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		if rng.IntN(5) == 0 {
			b = append(b, []byte("\u2028😀漢")...)
		}
		return string(b)
	}
	return Record{
		Row: rng.IntN(1 << 40), Outcome: Outcome(s()), Transient: rng.IntN(2) == 0, Action: s(),
		Username: s(), Input: s(), ResolvedBy: s(), TokenSHA256: s(), UserPoolID: s(), ErrorCode: s(),
		Message: s(), Attempts: rng.IntN(100) - 3, DurationMS: rng.Int64() - rng.Int64(), RequestID: s(),
		Repeated: rng.IntN(2) == 0,
		At: time.Unix(rng.Int64N(250_000_000_000)-62_000_000_000, rng.Int64N(1e9)).
			In(time.FixedZone("", (rng.IntN(48)-24)*1800)),
	}
}

func TestAppendRecord_ReusesBuffer(t *testing.T) {
	r := Record{Row: 1, Outcome: Deleted, Action: "delete", Username: "alice", At: time.Now()}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendRecord(buf[:0], &r) })
	if allocs != 0 {
		t.Fatalf("AppendRecord allocated %v times per call, want 0", allocs)
	}
}

func TestValidTime(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{name: "now", t: time.Now(), want: true},
		{name: "zero", t: time.Time{}, want: true},
		{name: "year 10000", t: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), want: false},
		{name: "year -1", t: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), want: false},
		{name: "offset 24h", t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)), want: false},
		{name: "offset 23h59", t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600-60)), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidTime(tt.t); got != tt.want {
				t.Fatalf("ValidTime(%v) = %v, want %v", tt.t, got, tt.want)
			}
			_, err := json.Marshal(tt.t)
			if (err == nil) != tt.want {
				t.Fatalf("encoding/json disagrees: err = %v", err)
			}
		})
	}
}

func FuzzAppendRecord(f *testing.F) {
	f.Add(1, "disabled", true, "alice", "a&b<c>", "msg\n\x00\xff", int64(5), int64(1700000000), int64(5), 3600)
	f.Add(-3, "", false, "", "\u2028", `"\`, int64(-1), int64(0), int64(0), 0)
	f.Fuzz(func(t *testing.T, row int, outcome string, flag bool, user, input, msg string, dur, sec, nsec int64, off int) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", off%(24*3600)))
		r := Record{Row: row, Outcome: Outcome(outcome), Transient: flag, Action: user, Username: user,
			Input: input, Message: msg, ErrorCode: outcome, DurationMS: dur, Repeated: !flag, At: at}
		if !ValidTime(at) {
			return // encoding/json refuses it; Writer.Write does too
		}
		checkRecord(t, &r)
		if !utf8.Valid(AppendRecord(nil, &r)) {
			t.Fatal("output is not valid UTF-8")
		}
	})
}
