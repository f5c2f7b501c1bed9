package input

import (
	"errors"
	"io"
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

func TestCSVReader_RecordTooLong(t *testing.T) {
	// A quote that never closes, followed by far more than the limit.
	input := "username\nalice\n\"bob\n" + strings.Repeat("x,y,z\n", 200_000)
	rd, err := newCSVReader(strings.NewReader(input), 1024)
	if err != nil {
		t.Fatal(err)
	}
	row, err := rd.Next()
	if err != nil || row.Username != "alice" {
		t.Fatalf("first row = %+v, %v", row, err)
	}
	_, err = rd.Next()
	if !errors.Is(err, ErrRecordTooLong) {
		t.Fatalf("err = %v, want ErrRecordTooLong", err)
	}
	if !strings.Contains(err.Error(), "after line 2") {
		t.Errorf("error does not say where: %v", err)
	}
	if _, err := rd.Next(); !errors.Is(err, ErrRecordTooLong) {
		t.Errorf("reading went on after the error: %v", err)
	}
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
