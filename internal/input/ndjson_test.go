package input

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNDJSONReader_Columns(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Columns
		rows  int
	}{
		{name: "empty input", input: "", want: Columns{}},
		{name: "only blank lines", input: "\n  \r\n\t\n", want: Columns{}},
		{name: "union of the lines", input: `{"email":"a@example.com"}` + "\n" + `{"username":"bob"}`, want: Columns{Email: true, Username: true}, rows: 2},
		{name: "all aliases are username", input: `{"cognito:username":"a"}`, want: Columns{Username: true}, rows: 1},
		{name: "null counts as present", input: `{"username":"a","sub":null}`, want: Columns{Username: true, Sub: true}, rows: 1},
		{name: "escaped key", input: `{"user\u005fpool_id":"p_1","username":"a"}`, want: Columns{Username: true, UserPoolID: true}, rows: 1},
		{name: "unknown keys only", input: `{"name":"a","age":3}`, want: Columns{}, rows: 1},
		{name: "first line not JSON", input: "{oops\n" + `{"username":"bob"}`, want: Columns{Username: true}, rows: 2},
		{name: "first line of a wrong type", input: `{"username":7}` + "\n" + `{"username":"bob"}`, want: Columns{Username: true}, rows: 2},
		{name: "first line with no known key", input: `{"note":"x"}` + "\n" + `{"username":"bob"}`, want: Columns{Username: true}, rows: 2},
		{name: "invalid lines add nothing", input: `{"username":"bob"}` + "\n" + `{"sub":7}` + "\n" + `{"email":"e","x":}`, want: Columns{Username: true}, rows: 3},
		{name: "only invalid lines", input: `{"username":7}` + "\n" + `["username"]`, want: Columns{}, rows: 2},
		{name: "blank lines before the first", input: "\n\n" + `{"access_token":"t"}`, want: Columns{AccessToken: true}, rows: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewNDJSONReader(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(readAll(t, rd)); got != tt.rows {
				t.Errorf("%d rows, want %d", got, tt.rows)
			}
			if got := rd.Columns(); got != tt.want {
				t.Errorf("Columns after the last row = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNDJSONReader_Lines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Row // N and Line are 1
	}{
		{name: "all fields", line: `{"username":"a","user_pool_id":"p_1","access_token":"t","sub":"s","email":"e"}`,
			want: Row{Username: "a", UserPoolID: "p_1", AccessToken: "t", Sub: "s", Email: "e"}},
		{name: "values trimmed", line: `{"username":"  a \t"}`, want: Row{Username: "a"}},
		{name: "escapes decoded", line: `{"username":"a\"b\u00e9\n"}`, want: Row{Username: "a\"bé"}},
		{name: "surrogate pair", line: `{"username":"\ud83d\ude00"}`, want: Row{Username: "😀"}},
		{name: "case matters", line: `{"USERNAME":"a","Email":"e"}`, want: Row{}},
		{name: "nested unknown values skipped", line: `{"meta":{"username":"no","list":[1,{"x":"]}"}]},"username":"a","n":-1.5e3,"ok":true,"z":null}`,
			want: Row{Username: "a"}},
		{name: "spaces everywhere", line: ` { "username" : "a" , "sub" : "s" } `, want: Row{Username: "a", Sub: "s"}},
		{name: "null is empty", line: `{"username":null,"email":"e"}`, want: Row{Email: "e"}},
		{name: "empty object", line: `{}`, want: Row{}},
		{name: "number", line: `{"username":42}`, want: Row{Err: `ndjson: field "username" on line 1 is a JSON number, not a string`}},
		{name: "boolean", line: `{"sub":true}`, want: Row{Err: `ndjson: field "sub" on line 1 is a JSON boolean, not a string`}},
		{name: "array", line: `{"email":["a"]}`, want: Row{Err: `ndjson: field "email" on line 1 is a JSON array, not a string`}},
		{name: "escaped key wrong type", line: `{"e\u006dail":{}}`, want: Row{Err: `ndjson: field "email" on line 1 is a JSON object, not a string`}},
		{name: "array line", line: `["username"]`, want: Row{Err: "ndjson: line 1 is not a JSON object"}},
		{name: "string line", line: `"alice"`, want: Row{Err: "ndjson: line 1 is not a JSON object"}},
		{name: "bad character", line: `{"username" "a"}`, want: Row{Err: "ndjson: line 1 is not valid JSON (at byte 13)"}},
		{name: "trailing garbage", line: `{"username":"a"} x`, want: Row{Err: "ndjson: line 1 is not valid JSON (at byte 18)"}},
		{name: "cut short", line: `{"access_token":"secret`, want: Row{Err: "ndjson: line 1 is not valid JSON (it ends too early)"}},
		{name: "two objects on a line", line: `{"username":"a"}{"username":"b"}`, want: Row{Err: "ndjson: line 1 is not valid JSON (at byte 17)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewNDJSONReader(strings.NewReader(tt.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, rd)
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			want := tt.want
			want.N, want.Line = 1, 1
			if rows[0] != want {
				t.Errorf("row = %+v\nwant  %+v", rows[0], want)
			}
		})
	}
}

func TestNDJSONReader_ErrorsDoNotQuoteValues(t *testing.T) {
	for _, line := range []string{
		`{"access_token":"secret-1`,
		`{"access_token":"secret-2" "x"}`,
		`{"access_token":"secret-3","username":5}`,
		`secret-4`,
	} {
		rd, err := NewNDJSONReader(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		row, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if row.Err == "" || strings.Contains(row.Err, "secret") {
			t.Errorf("%s: Err = %q, want an error that does not quote the line", line, row.Err)
		}
	}
}

func TestNDJSONReader_LongLine(t *testing.T) {
	input := `{"username":"a"}` + "\n" +
		`{"username":"` + strings.Repeat("x", 500) + `"}` + "\n" +
		"\n" +
		`{"username":"b"}` + "\n" +
		strings.Repeat("y", 300) // overlong, at the end, without newline
	rd, err := newNDJSONReader(strings.NewReader(input), 64)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, rd)
	want := []Row{
		{N: 1, Line: 1, Username: "a"},
		{N: 2, Line: 2, Err: "ndjson: line 2 is longer than 64 bytes"},
		{N: 3, Line: 4, Username: "b"},
		{N: 4, Line: 5, Err: "ndjson: line 5 is longer than 64 bytes"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
}

func TestNDJSONReader_IOError(t *testing.T) {
	boom := errors.New("network gone")
	r := io.MultiReader(strings.NewReader(`{"username":"a"}`+"\n"), iotest.ErrReader(boom))
	rd, err := NewNDJSONReader(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err != nil {
		t.Fatalf("first row: %v", err)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Fatalf("the error does not stick: %v", err)
	}
}

func TestNDJSONReader_AllocsPerRow(t *testing.T) {
	rd, err := NewNDJSONReader(strings.NewReader(string(benchNDJSON(5000))))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("%.1f allocations per row, want at most 1", allocs)
	}
}

func TestNDJSONReader_LineLimitBoundary(t *testing.T) {
	const limit = 64
	line := func(n int) string { // a valid object of n bytes
		return `{"username":"` + strings.Repeat("a", n-len(`{"username":""}`)) + `"}`
	}
	tests := []struct {
		name    string
		input   string
		wantErr bool
	}{
		{name: "exactly the limit", input: line(limit) + "\n", wantErr: false},
		{name: "exactly the limit, CRLF", input: line(limit-1) + "\r\n", wantErr: false},
		{name: "one byte over", input: line(limit+1) + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := newNDJSONReader(strings.NewReader(tt.input+`{"username":"next"}`), limit)
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, rd)
			if len(rows) != 2 || rows[1].Username != "next" {
				t.Fatalf("rows = %+v, want the line and the next one", rows)
			}
			if got := rows[0].Err != ""; got != tt.wantErr {
				t.Errorf("row 1 = %+v, want invalid: %v", rows[0], tt.wantErr)
			}
		})
	}
}

// A field given twice with different values is a guess either way (jq
// takes the last, cogsweep took the first): the row is invalid, naming the
// keys and never the values.
func TestNDJSONReader_RepeatedKeys(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Row // N and Line are 1
	}{
		{name: "same key, different values", line: `{"username":"u1","username":"u2"}`,
			want: Row{Err: `ndjson: line 1 has key "username" twice, with different values`}},
		{name: "same key, same value", line: `{"username":"u1","username":"u1"}`, want: Row{Username: "u1"}},
		{name: "same value up to spaces", line: `{"email":"x@example.com","email":" x@example.com "}`, want: Row{Email: "x@example.com"}},
		{name: "same value, one escaped", line: `{"sub":"s1","sub":"\u0073\u0031"}`, want: Row{Sub: "s1"}},
		{name: "aliases, different values", line: `{"cognito:username":"c","username":"a"}`,
			want: Row{Err: `ndjson: line 1 has keys "cognito:username" and "username" with different values (both name the username)`}},
		{name: "aliases, same value", line: `{"cognito:username":"a","Username":"a","username":"a"}`, want: Row{Username: "a"}},
		{name: "escaped repeat of a key", line: `{"access_token":"t1","access_tok\u0065n":"t2"}`,
			want: Row{Err: `ndjson: line 1 has key "access_token" twice, with different values`}},
		{name: "null then a value", line: `{"username":null,"username":"u1"}`,
			want: Row{Err: `ndjson: line 1 has key "username" twice, with different values`}},
		{name: "null and empty", line: `{"user_pool_id":"","user_pool_id":null,"username":"a"}`, want: Row{Username: "a"}},
		{name: "repeat of a wrong type", line: `{"username":"u1","username":7}`,
			want: Row{Err: `ndjson: field "username" on line 1 is a JSON number, not a string`}},
		{name: "unknown keys may repeat", line: `{"note":"a","note":"b","username":"u1"}`, want: Row{Username: "u1"}},
		{name: "other fields kept", line: `{"username":"u1","email":"e","username":"u1","sub":"s"}`, want: Row{Username: "u1", Email: "e", Sub: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewNDJSONReader(strings.NewReader(tt.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, rd)
			want := tt.want
			want.N, want.Line = 1, 1
			if len(rows) != 1 || rows[0] != want {
				t.Errorf("rows = %+v\nwant   %+v", rows, want)
			}
		})
	}
}
