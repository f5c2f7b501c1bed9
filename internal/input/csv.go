package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/gocarina/gocsv"
)

// ErrNoColumns means the CSV header names none of the columns cogsweep
// reads. The CLI exits 2 on it. The header itself is never quoted in the
// message: a file without a header has a data row there, maybe a token.
var ErrNoColumns = errors.New("no known column in the CSV header (want username, cognito:username, user_pool_id, access_token, sub or email)")

// ErrRecordTooLong means the CSV header is longer than the reader's limit
// (1 MiB). A data record that long is an invalid row instead.
var ErrRecordTooLong = errors.New("record too long")

const (
	// maxCSVRecord bounds the memory of one record: encoding/csv holds a
	// record whole, and a real row is a few hundred bytes.
	maxCSVRecord = 1 << 20
	csvBufSize   = 64 << 10
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// csvColumns is the struct gocsv maps CSV columns into. Its tags are the one
// place that names the columns cogsweep reads; several names for a field
// are aliases.
type csvColumns struct {
	Username    string `csv:"username,Username,cognito:username"`
	UserPoolID  string `csv:"user_pool_id"`
	AccessToken string `csv:"access_token"`
	Sub         string `csv:"sub"`
	Email       string `csv:"email"`
}

// field is a Row field that a column can fill.
type field int

const (
	fUsername field = iota
	fUserPoolID
	fAccessToken
	fSub
	fEmail
	nFields
)

// csvReader streams Rows from CSV.
//
// gocsv decides which field each header name maps to (from csvColumns'
// tags), once per header; the records are then copied into Rows by column
// index straight from encoding/csv. gocsv's own record path (Unmarshaller,
// UnmarshalToChan) cannot be used per record here: it cannot tell a line
// of spaces (skipped, not numbered) from a row, its reflection costs six
// allocations and twice the time per row of a Cognito export against one
// allocation here, and its channel variants stop at the first parse error
// and need a goroutine per file.
//
// A record longer than the limit is one invalid row: recordGuard stops it
// before encoding/csv has buffered more than the limit and skips the rest,
// and a fresh csv.Reader goes on at the next record.
type csvReader struct {
	guard *recordGuard
	br    *bufio.Reader
	cr    *csv.Reader
	cols  Columns
	idx   [nFields]int // column of each field, -1 when absent
	n     int          // records returned so far
	// lineBase and offBase are the lines and bytes before the start of cr,
	// which restarts its own counts after a record that was too long.
	lineBase int
	offBase  int64
	err      error // the error that ended reading
}

// NewCSVReader reads the header of r and returns a Reader over its records.
// It fails with ErrNoColumns when the header names no known column (an
// empty input has no header, so it fails the same way).
func NewCSVReader(r io.Reader) (Reader, error) {
	return newCSVReader(r, maxCSVRecord)
}

func newCSVReader(r io.Reader, maxRecord int) (*csvReader, error) {
	// A BOM before a quoted first header would read as a bare quote, so it
	// goes before the parser (and the guard) sees it.
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	if !bytes.Equal(head[:n], utf8BOM) {
		r = io.MultiReader(bytes.NewReader(head[:n]), r)
	}
	c := &csvReader{guard: newRecordGuard(r, maxRecord)}
	c.br = bufio.NewReaderSize(c.guard, csvBufSize)
	c.restart()

	header, tooLong, err := c.read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, ErrNoColumns
	case tooLong:
		return nil, fmt.Errorf("read csv header: the header is longer than %d bytes: %w", maxRecord, ErrRecordTooLong)
	case err != nil:
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	if err := c.mapHeader(header); err != nil {
		return nil, err
	}
	return c, nil
}

// mapHeader finds the column of each field. When two columns map to the same
// field (a repeated name, or username next to cognito:username) the first
// one wins.
func (c *csvReader) mapHeader(header []string) error {
	for f := range c.idx {
		c.idx[f] = -1
	}
	names := make([]string, len(header))
	// gocsv is asked about each distinct name once: a header within the
	// record limit that is hundreds of thousands of columns wide repeats
	// its names, and gocsv's header check costs memory per column.
	seen := map[string]bool{}
	var distinct []string
	for j, name := range header {
		names[j] = normalizeHeader(name)
		if n := names[j]; n != "" && !seen[n] {
			seen[n] = true
			distinct = append(distinct, n)
		}
	}
	known, err := knownNames(distinct)
	if err != nil {
		return err
	}
	isKnown := map[string]bool{}
	for i, n := range distinct {
		if known[i] {
			isKnown[n] = true
		}
	}
	found := false
	byName := map[string]field{} // at most one entry per key of csvColumns
	for j, name := range names {
		if !isKnown[name] {
			continue
		}
		f, ok := byName[name]
		if !ok {
			if f, ok, err = fieldOf(name); err != nil {
				return err
			}
			if !ok {
				continue
			}
			byName[name] = f
		}
		if c.idx[f] < 0 {
			c.idx[f] = j
			found = true
		}
	}
	if !found {
		return ErrNoColumns
	}
	c.cols = Columns{
		Username:    c.idx[fUsername] >= 0,
		Sub:         c.idx[fSub] >= 0,
		Email:       c.idx[fEmail] >= 0,
		UserPoolID:  c.idx[fUserPoolID] >= 0,
		AccessToken: c.idx[fAccessToken] >= 0,
	}
	return nil
}

// knownNames asks gocsv, once for the whole header, which names match a tag
// of csvColumns: known[j] is true when names[j] does. gocsv lists the names
// it does not know (MismatchedHeaders) in header order, so a walk in step
// with the header reads them off in time linear in its width.
func knownNames(names []string) ([]bool, error) {
	um, err := gocsv.NewUnmarshaller(csv.NewReader(strings.NewReader("h\n")), csvColumns{})
	if err != nil {
		return nil, fmt.Errorf("map csv header: %w", err)
	}
	if err := um.RenormalizeHeaders(func([]string) []string { return names }); err != nil {
		return nil, fmt.Errorf("map csv header: %w", err)
	}
	known := make([]bool, len(names))
	unknown := um.MismatchedHeaders
	for j, name := range names {
		if len(unknown) > 0 && unknown[0] == name {
			unknown = unknown[1:]
			continue
		}
		known[j] = true
	}
	return known, nil
}

// normalizeHeader trims spaces and byte order marks from a header name.
func normalizeHeader(name string) string {
	return strings.TrimFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\uFEFF'
	})
}

// fieldOf asks gocsv which field a header name maps to, by decoding a
// one-cell record under that name into csvColumns. mapHeader calls it only
// for names gocsv knows, once each: a handful per header, whatever its width.
func fieldOf(name string) (field, bool, error) {
	if name == "" {
		return 0, false, nil
	}
	probe := csv.NewReader(strings.NewReader("h\nx\n"))
	um, err := gocsv.NewUnmarshaller(probe, csvColumns{})
	if err != nil {
		return 0, false, fmt.Errorf("map csv header: %w", err)
	}
	if err := um.RenormalizeHeaders(func([]string) []string { return []string{name} }); err != nil {
		return 0, false, fmt.Errorf("map csv header: %w", err)
	}
	v, err := um.Read()
	if err != nil {
		return 0, false, fmt.Errorf("map csv header: %w", err)
	}
	got := v.(csvColumns)
	switch "x" {
	case got.Username:
		return fUsername, true, nil
	case got.UserPoolID:
		return fUserPoolID, true, nil
	case got.AccessToken:
		return fAccessToken, true, nil
	case got.Sub:
		return fSub, true, nil
	case got.Email:
		return fEmail, true, nil
	}
	return 0, false, nil
}

// Columns reports which known columns the header has.
func (c *csvReader) Columns() Columns { return c.cols }

// Next returns the next record as a Row. A record the parser rejects comes
// back as a Row with Err set, and the following call goes on with the next
// record.
func (c *csvReader) Next() (Row, error) {
	if c.err != nil {
		return Row{}, c.err
	}
	row, err := c.next()
	if err != nil {
		c.err = err
	}
	return row, err
}

func (c *csvReader) next() (Row, error) {
	rec, tooLong, err := c.read()
	switch {
	case tooLong:
		return c.skipLong()
	case errors.Is(err, io.EOF):
		return Row{}, io.EOF
	case err != nil:
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Row{}, fmt.Errorf("read csv: %w", err)
		}
		c.n++
		shifted := *pe
		shifted.StartLine += c.lineBase
		shifted.Line += c.lineBase
		return Row{
			N:        c.n,
			Line:     shifted.StartLine,
			Err:      parseErrorText(&shifted),
			QuoteErr: errors.Is(pe.Err, csv.ErrQuote),
		}, nil
	}
	c.n++
	line, _ := c.cr.FieldPos(0)
	row := Row{N: c.n, Line: c.lineBase + line}
	row.Username = c.value(rec, fUsername)
	row.UserPoolID = c.value(rec, fUserPoolID)
	row.AccessToken = c.value(rec, fAccessToken)
	row.Sub = c.value(rec, fSub)
	row.Email = c.value(rec, fEmail)
	return row, nil
}

// skipLong turns the record the guard stopped into one invalid row, drops
// the rest of it and restarts the parser at the next record. A quote still
// open at the end of the input, or an error inside a quoted field, is a
// quote error like any other: delete refuses the file.
func (c *csvReader) skipLong() (Row, error) {
	line := c.guard.recLine
	quoteErr, err := c.guard.skip()
	if err != nil {
		return Row{}, fmt.Errorf("read csv: skip the record on line %d: %w", line, err)
	}
	c.restart()
	c.n++
	row := Row{N: c.n, Line: line, QuoteErr: quoteErr,
		Err: fmt.Sprintf("csv: the record on line %d is longer than %d bytes", line, c.guard.max)}
	if quoteErr {
		row.Err += ", with a quoted field not closed properly"
	}
	return row, nil
}

// restart puts a fresh parser on the guard, where the next record starts:
// the old one may hold part of the record the guard stopped.
func (c *csvReader) restart() {
	c.br.Reset(c.guard) // bufio and not csv's own: csv.NewReader reuses a *bufio.Reader
	c.cr = csv.NewReader(c.br)
	c.cr.FieldsPerRecord = -1 // a short or long row is a row, judged later by its values
	c.cr.ReuseRecord = true
	c.cr.LazyQuotes = false
	c.lineBase, c.offBase = c.guard.line, c.guard.off
}

// read returns the next record that is not blank, or tooLong when the guard
// stopped the record being read. encoding/csv skips empty lines itself but
// returns a line of spaces as a record of one field. A record of one field
// that is only spaces counts as blank even when it is quoted: it cannot
// name a user either way.
func (c *csvReader) read() (rec []string, tooLong bool, err error) {
	for {
		rec, err := c.cr.Read()
		if err != nil {
			// encoding/csv may report a parse error in the part of the
			// record it got before the guard stopped it; what it has read
			// of the input tells whether that is the record stopped.
			if c.guard.over && c.offBase+c.cr.InputOffset() > c.guard.recStart {
				return nil, true, nil
			}
			return nil, false, err
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		return rec, false, nil
	}
}

func (c *csvReader) value(rec []string, f field) string {
	j := c.idx[f]
	if j < 0 || j >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[j])
}

// parseErrorText describes a rejected record without quoting any of it (it
// may hold a token).
func parseErrorText(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("csv: bare quote in non-quoted field on line %d", pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		return fmt.Sprintf("csv: extraneous or missing quote in quoted field on line %d (record starts on line %d)", pe.Line, pe.StartLine)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("csv: extraneous or missing quote in quoted field on line %d", pe.Line)
	}
	return fmt.Sprintf("csv: %v on line %d", pe.Err, pe.Line)
}
