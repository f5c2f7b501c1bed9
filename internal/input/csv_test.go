package input

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCSVReader_HeaderNames(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   Columns
		wantU  string // Username of the first row
		wantNo bool   // ErrNoColumns
	}{
		{name: "lower", input: "username\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "capital", input: "Username\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "cognito", input: "cognito:username\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "spaces around", input: "  username\t, email \nalice,a@example.com\n", want: Columns{Username: true, Email: true}, wantU: "alice"},
		{name: "BOM", input: "\ufeffusername\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "BOM before quoted name", input: "\ufeff\"username\"\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "BOM inside a later name", input: "email,\ufeffusername\na@example.com,alice\n", want: Columns{Username: true, Email: true}, wantU: "alice"},
		{name: "all five", input: "username,user_pool_id,access_token,sub,email\nalice,p_1,t,s,e\n",
			want: Columns{Username: true, UserPoolID: true, AccessToken: true, Sub: true, Email: true}, wantU: "alice"},
		{name: "token only", input: "access_token\nabc\n", want: Columns{AccessToken: true}},
		{name: "first username column wins", input: "cognito:username,username\nalice,bob\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "repeated name first wins", input: "username,username\nalice,bob\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "blank lines before header", input: "\n  \n\nusername\nalice\n", want: Columns{Username: true}, wantU: "alice"},
		{name: "upper case is not a known name", input: "USERNAME\nalice\n", wantNo: true},
		{name: "partial name is not a known name", input: "user\nalice\n", wantNo: true},
		{name: "empty input", input: "", wantNo: true},
		{name: "only blank lines", input: "\n   \n\r\n", wantNo: true},
		{name: "BOM only", input: "\ufeff", wantNo: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := NewCSVReader(strings.NewReader(tt.input))
			if tt.wantNo {
				if !errors.Is(err, ErrNoColumns) {
					t.Fatalf("err = %v, want ErrNoColumns", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rd.Columns(); got != tt.want {
				t.Errorf("Columns = %+v, want %+v", got, tt.want)
			}
			row, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			if row.Username != tt.wantU {
				t.Errorf("Username = %q, want %q", row.Username, tt.wantU)
			}
		})
	}
}

func TestCSVReader_HeaderParseError(t *testing.T) {
	_, err := NewCSVReader(strings.NewReader("user\"name\nalice\n"))
	if err == nil || errors.Is(err, ErrNoColumns) {
		t.Fatalf("err = %v, want a header parse error", err)
	}
}

func TestCSVReader_NoColumnsErrorHidesHeader(t *testing.T) {
	// A file without a header: its first line is data, here a token.
	_, err := NewCSVReader(strings.NewReader("eyJsecret.token.value\n"))
	if !errors.Is(err, ErrNoColumns) {
		t.Fatalf("err = %v, want ErrNoColumns", err)
	}
	if strings.Contains(err.Error(), "eyJsecret") {
		t.Errorf("error quotes the header: %v", err)
	}
}

func TestCSVReader_ErrorsDoNotQuoteValues(t *testing.T) {
	input := "username,access_token\n" +
		"alice,sec\"ret-token-1\n" + // bare quote inside the token
		"bob,\"secret-token-2\"x\n" + // quote error right after it
		"carol,\"secret-token-3\n" // quote never closes
	rd, err := NewCSVReader(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, rd)
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r.Err == "" {
			t.Errorf("row %d: want a parse error", r.N)
		}
		if strings.Contains(r.Err, "secret") || strings.Contains(r.Err, "sec") {
			t.Errorf("row %d: error quotes the input: %s", r.N, r.Err)
		}
		if r.AccessToken != "" || r.Username != "" {
			t.Errorf("row %d: a rejected record carries values: %+v", r.N, r)
		}
	}
	if rows[0].QuoteErr || !rows[1].QuoteErr || !rows[2].QuoteErr {
		t.Errorf("QuoteErr = %v %v %v, want false true true", rows[0].QuoteErr, rows[1].QuoteErr, rows[2].QuoteErr)
	}
}

// TestCSVReader_RecordTooLong: a record past the limit is one invalid row
// and reading goes on with the next record, the lines still counted; a
// quote error in it, or a quote still open at the end, marks it QuoteErr
// (delete refuses the file), as encoding/csv would.
func TestCSVReader_RecordTooLong(t *testing.T) {
	long := strings.Repeat("x,y,z\n", 400) // 2400 bytes on 400 lines
	wide := strings.Repeat("abcdef", 400)  // 2400 bytes on one line
	type want struct {
		user     string // "" for the invalid row
		line     int
		quoteErr bool
	}
	tests := []struct {
		name  string
		input string
		want  []want
	}{
		{name: "one long line", input: "username\nalice\nbob," + wide + "\ncarol\n",
			want: []want{{"alice", 2, false}, {"", 3, false}, {"carol", 4, false}}},
		{name: "long line at the end without a newline", input: "username\nalice\n" + wide,
			want: []want{{"alice", 2, false}, {"", 3, false}}},
		{name: "long quoted field over many lines, closed", input: "username,note\nalice,\"" + long + "\"\ncarol\n",
			want: []want{{"", 2, false}, {"carol", 403, false}}},
		{name: "escaped quotes and commas in the long field", input: "username,note\nalice,\"" + strings.Repeat(`a,"",b`+"\n", 400) + "\",x\ncarol\n",
			want: []want{{"", 2, false}, {"carol", 403, false}}},
		{name: "quote never closes", input: "username\nalice\n\"bob\n" + long,
			want: []want{{"alice", 2, false}, {"", 3, true}}},
		{name: "quote error before the limit", input: "username\nalice\n\"bob\"x" + wide + "\ncarol\n",
			want: []want{{"alice", 2, false}, {"", 3, true}, {"carol", 4, false}}},
		{name: "bare quote before the limit", input: "username\nalice\nbo\"b" + wide + "\ncarol\n",
			want: []want{{"alice", 2, false}, {"", 3, false}, {"carol", 4, false}}},
		{name: "two long records in a row", input: "username\n" + wide + "\n" + wide + "\ncarol\n",
			want: []want{{"", 2, false}, {"", 3, false}, {"carol", 4, false}}},
		{name: "CRLF lines", input: "username\r\nalice\r\n" + wide + "\r\n\"carol\"\r\ndave\r\n",
			want: []want{{"alice", 2, false}, {"", 3, false}, {"carol", 4, false}, {"dave", 5, false}}},
		{name: "exactly the limit is not too long", input: "username\n" + strings.Repeat("a", 1023) + "\ncarol\n",
			want: []want{{strings.Repeat("a", 1023), 2, false}, {"carol", 3, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := newCSVReader(strings.NewReader(tt.input), 1024)
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, rd)
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows, want %d: %+v", len(rows), len(tt.want), rows)
			}
			for i, w := range tt.want {
				r := rows[i]
				if r.N != i+1 || r.Line != w.line || r.Username != w.user || r.QuoteErr != w.quoteErr {
					t.Errorf("row %d = {N:%d Line:%d Username:%.10q QuoteErr:%v Err:%q}, want line %d, username %.10q, QuoteErr %v",
						i+1, r.N, r.Line, r.Username, r.QuoteErr, r.Err, w.line, w.user, w.quoteErr)
				}
				if (w.user == "") != strings.Contains(r.Err, "longer than 1024 bytes") {
					t.Errorf("row %d: Err = %q", i+1, r.Err)
				}
			}
		})
	}
}

func TestCSVReader_HeaderTooLong(t *testing.T) {
	_, err := newCSVReader(strings.NewReader("username,"+strings.Repeat("x", 2000)+"\nalice\n"), 1024)
	if !errors.Is(err, ErrRecordTooLong) {
		t.Fatalf("err = %v, want ErrRecordTooLong", err)
	}
}

// TestCSVReader_LongRecordMemoryBounded reads a 32 MiB record: the reader
// must not hold it whole, only about the 1 MiB limit.
func TestCSVReader_LongRecordMemoryBounded(t *testing.T) {
	const size = 64 << 20
	in := io.MultiReader(strings.NewReader("username\nalice\n"),
		io.LimitReader(repeatByte('x'), size), strings.NewReader("\nbob\n"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rd, err := NewCSVReader(in)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, rd)
	runtime.ReadMemStats(&after)
	if len(rows) != 3 || rows[0].Username != "alice" || rows[1].Err == "" || rows[2].Username != "bob" {
		t.Fatalf("rows = %+v", rows)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("reading a %d MiB record allocated %d MiB, want at most 16", size>>20, got>>20)
	}
}

// repeatByte is an endless reader of one byte that allocates nothing.
type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestCSVReader_LongRecordUnderLimit(t *testing.T) {
	long := strings.Repeat("a", 100_000)
	input := "username,note\nalice,\"" + long + "\n" + long + "\"\nbob,x\n"
	rd, err := newCSVReader(strings.NewReader(input), 300_000)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, rd)
	if len(rows) != 2 || rows[0].Username != "alice" || rows[1].Username != "bob" || rows[1].Line != 4 {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestCSVReader_IOError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("username\nalice\n"), iotest.ErrReader(boom))
	rd, err := NewCSVReader(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); err != nil {
		t.Fatalf("first row: %v", err)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestCSVReader_AllocsPerRow(t *testing.T) {
	data := benchCSV(5000)
	rd, err := NewCSVReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	})
	// One string per record, from encoding/csv.
	if allocs > 1 {
		t.Errorf("%.1f allocations per row, want at most 1", allocs)
	}
}

// TestCSVReader_WideHeaderAllocsPerColumn holds the header mapping to a
// constant cost per column: gocsv is asked once for the whole header, not
// once per column (520,000 columns took 17 s and 96 MB that way).
func TestCSVReader_WideHeaderAllocsPerColumn(t *testing.T) {
	tests := []struct {
		name string
		cell func(j int) string
	}{
		{name: "distinct unknown names", cell: func(j int) string { return "col" + strconv.Itoa(j) }},
		{name: "one name repeated", cell: func(int) string { return "x" }},
		{name: "known name repeated", cell: func(int) string { return "username" }},
	}
	const cols = 20_000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := wideHeader(cols, tt.cell) + "\n"
			allocs := testing.AllocsPerRun(3, func() {
				if _, err := NewCSVReader(strings.NewReader(input)); err != nil {
					t.Fatal(err)
				}
			})
			// gocsv's one pass over the header allocates once per column
			// (its field lookup returns a pointer to a loop variable); a
			// gocsv probe per column cost 26.
			if perCol := allocs / cols; perCol > 2 {
				t.Errorf("%.0f allocations for %d columns (%.2f per column), want at most 2 per column", allocs, cols, perCol)
			}
		})
	}
}

// wideHeader is a header of n columns named by cell, with username last so
// that the mapping has to read all of it.
func wideHeader(n int, cell func(j int) string) string {
	var b strings.Builder
	for j := range n - 1 {
		b.WriteString(cell(j))
		b.WriteByte(',')
	}
	b.WriteString("username")
	return b.String()
}
