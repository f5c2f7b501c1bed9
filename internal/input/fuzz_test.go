package input

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// addFixtureSeeds seeds f with every fixtures/input/*/input.<ext>.
func addFixtureSeeds(f *testing.F, ext string, add func([]byte)) {
	paths, err := filepath.Glob("../../fixtures/input/*/input." + ext)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// refRecord is one record as encoding/csv alone reads it.
type refRecord struct {
	line int
	size int64 // input bytes since the previous record, blank lines included
}

// refCSV reads data with encoding/csv as csvReader configures it, skipping
// the same blank records; header is false when there is none.
func refCSV(data []byte) (recs []refRecord, header bool) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	cr.FieldsPerRecord = -1
	var prev int64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		size := cr.InputOffset() - prev
		prev = cr.InputOffset()
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			recs = append(recs, refRecord{line: pe.StartLine, size: size})
		case err != nil:
			panic(err) // a bytes.Reader does not fail
		case len(rec) == 1 && strings.TrimSpace(rec[0]) == "":
		default:
			line, _ := cr.FieldPos(0)
			recs = append(recs, refRecord{line: line, size: size})
		}
	}
	if len(recs) == 0 {
		return nil, false
	}
	return recs[1:], true
}

// FuzzCSV reads any input under a small record limit and checks that every
// record encoding/csv finds gives exactly one row, on its line; that a
// record within the limit reads as it does without one; that only a record
// past the limit is cut, to one invalid row; and that no row carries more
// than the limit.
func FuzzCSV(f *testing.F) {
	addFixtureSeeds(f, "csv", func(b []byte) { f.Add(b, uint16(24)) })
	f.Add([]byte("username\nalice\n\"bob\nx,y\n\"\ncarol\n"), uint16(8))
	f.Add([]byte("username,n\na,\"x\"\"y\"\r\nb,\"q\"z\nc\n"), uint16(4))
	// Past any read-ahead slack: a limit that aborts the file fails here.
	f.Add([]byte("username\nalice\n"+strings.Repeat("x", 70_000)+"\ncarol\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		max := 16 + int(limit%256)
		want, hasHeader := refCSV(data)
		whole, err := newCSVReader(bytes.NewReader(data), 1<<30)
		if !hasHeader {
			if !errors.Is(err, ErrNoColumns) {
				t.Fatalf("no header: err = %v, want ErrNoColumns", err)
			}
			return
		}
		if err != nil {
			return // no known column, or a header encoding/csv rejects
		}
		cut, err := newCSVReader(bytes.NewReader(data), max)
		if errors.Is(err, ErrRecordTooLong) {
			return
		}
		if err != nil {
			t.Fatalf("header within the limit: %v", err)
		}
		all, rows := readAll(t, whole), readAll(t, cut)
		if len(all) != len(want) || len(rows) != len(want) {
			t.Fatalf("encoding/csv finds %d records; %d rows without a limit, %d with %d bytes", len(want), len(all), len(rows), max)
		}
		for i, r := range rows {
			if r.N != i+1 || r.Line != want[i].line || all[i].Line != want[i].line {
				t.Fatalf("row %d: N %d, line %d (%d without a limit), want line %d", i+1, r.N, r.Line, all[i].Line, want[i].line)
			}
			if strings.Contains(r.Err, "bytes") && strings.Contains(r.Err, "longer than") {
				if want[i].size <= int64(max) {
					t.Fatalf("row %d of %d bytes cut at %d: %q", i+1, want[i].size, max, r.Err)
				}
				if r.QuoteErr != all[i].QuoteErr {
					t.Fatalf("row %d: QuoteErr %v when cut, %v without a limit", i+1, r.QuoteErr, all[i].QuoteErr)
				}
				if r.Username != "" || r.Sub != "" || r.Email != "" || r.UserPoolID != "" || r.AccessToken != "" {
					t.Fatalf("row %d: a cut record carries values", i+1)
				}
				continue
			}
			if r != all[i] {
				t.Fatalf("row %d within the limit reads %+v, without a limit %+v", i+1, r, all[i])
			}
			if n := len(r.Username) + len(r.Sub) + len(r.Email) + len(r.UserPoolID) + len(r.AccessToken); n > max {
				t.Fatalf("row %d carries %d bytes, more than the limit %d", i+1, n, max)
			}
		}
	})
}

// FuzzNDJSON checks that every non-blank line gives exactly one row, on its
// line; that a rejected line carries no values; that no row carries more
// than its line; and that a plain JSON object's string values come through
// as encoding/json reads them.
func FuzzNDJSON(f *testing.F) {
	addFixtureSeeds(f, "ndjson", func(b []byte) { f.Add(b) })
	f.Add([]byte("{\"username\":\"a\\u00e9\"}\n\n  \n[1]\n{\"username\":7}\n{\"email\":null,\"sub\":\" s \"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := Open(bytes.NewReader(data), NDJSON)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		var rows []Row
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			rows = append(rows, row)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		n := 0
		for i, raw := range lines {
			if i == 0 {
				raw = bytes.TrimPrefix(raw, utf8BOM)
			}
			line := bytes.TrimSpace(raw)
			if len(line) == 0 {
				continue
			}
			if n >= len(rows) {
				t.Fatalf("line %d gives no row (%d rows)", i+1, len(rows))
			}
			r := rows[n]
			n++
			if r.N != n || r.Line != i+1 {
				t.Fatalf("row %d: N %d line %d, want line %d", n, r.N, r.Line, i+1)
			}
			values := []string{r.Username, r.Sub, r.Email, r.UserPoolID, r.AccessToken}
			size := 0
			for _, v := range values {
				size += len(v)
			}
			if r.Err != "" && size > 0 {
				t.Fatalf("row %d: a rejected line carries values: %+v", n, r)
			}
			if size > len(line) {
				t.Fatalf("row %d carries %d bytes from a line of %d", n, size, len(line))
			}
			checkNDJSONValues(t, line, r)
		}
		if n != len(rows) {
			t.Fatalf("%d non-blank lines, %d rows", n, len(rows))
		}
	})
}

// checkNDJSONValues compares a row with encoding/json's reading of its line
// when that reading is plain: a valid UTF-8 object whose known keys are
// strings or null and name each field once.
func checkNDJSONValues(t *testing.T, line []byte, r Row) {
	t.Helper()
	if !utf8.Valid(line) || line[0] != '{' {
		return
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(line, &obj) != nil {
		return
	}
	keys := 0
	for k := range obj {
		if _, ok := ndjsonKeys[k]; ok {
			keys++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		return
	}
	seen := map[field]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		f, ok := ndjsonKeys[tok.(string)]
		if !ok {
			continue
		}
		if seen[f] {
			return // a field named twice: the reader's choice, not checked here
		}
		seen[f] = true
		keys--
		if c := raw[0]; c != '"' && c != 'n' {
			if r.Err == "" {
				t.Fatalf("line %d: known key %q is a JSON %s, but the row is valid", r.Line, tok, kindOf(c))
			}
			return
		}
	}
	if keys != 0 || len(seen) == 0 {
		return // a key repeated, or no known key at all
	}
	if r.Err != "" {
		t.Fatalf("line %d: a plain object is rejected: %s", r.Line, r.Err)
	}
	got := map[field]string{fUsername: r.Username, fSub: r.Sub, fEmail: r.Email, fUserPoolID: r.UserPoolID, fAccessToken: r.AccessToken}
	for k, raw := range obj {
		f, ok := ndjsonKeys[k]
		if !ok {
			continue
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("line %d: %v", r.Line, err)
		}
		want := ""
		if v != nil {
			want = strings.TrimSpace(*v)
		}
		if got[f] != want {
			t.Fatalf("line %d: %s = %q, encoding/json reads %q", r.Line, k, got[f], want)
		}
	}
}
