package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxNDJSONLine bounds the memory of one NDJSON line; a longer line is an
// invalid row and reading goes on after it.
const maxNDJSONLine = 1 << 20

// ndjsonKeys maps the keys cogsweep reads to Row fields. Keys match exactly,
// as CSV headers do. A field given twice in a line (one key repeated, or two
// keys of one field) must have one value: with two, acting on either would
// be a guess (jq takes the last, the first cogsweep took the first), so the
// row is invalid (see takeValue).
var ndjsonKeys = map[string]field{
	"username":         fUsername,
	"Username":         fUsername,
	"cognito:username": fUsername,
	"user_pool_id":     fUserPoolID,
	"access_token":     fAccessToken,
	"sub":              fSub,
	"email":            fEmail,
}

// ndjsonReader streams Rows from NDJSON, one object per line.
//
// Lines are checked with json.Valid and then walked by a small scanner
// instead of json.Unmarshal: Unmarshal costs about seven allocations per
// line, the scanner one (all of a line's values share one string).
type ndjsonReader struct {
	br      *bufio.Reader
	maxLine int
	cols    Columns
	line    int   // physical lines read
	n       int   // rows returned
	pending *Row  // the first row, read early for Columns
	err     error // error that ended the input, returned after pending

	vals  []byte          // values of the current line, back to back
	spans [nFields]span   // where each field's value sits in vals
	seen  [nFields]bool   // which fields the current line has
	keys  [nFields][]byte // the key that gave each field, raw, within the line
}

type span struct{ start, end int }

// NewNDJSONReader returns a Reader over r. It reads the first non-blank line
// at once so Columns can report its fields from the start (an empty input
// has none).
// Lines longer than 1 MiB are invalid rows; memory stays bounded.
func NewNDJSONReader(r io.Reader) (Reader, error) {
	return newNDJSONReader(r, maxNDJSONLine)
}

func newNDJSONReader(r io.Reader, maxLine int) (*ndjsonReader, error) {
	// bufio's buffer is the line limit, its newline included: ReadSlice
	// fails with ErrBufferFull instead of growing.
	nr := &ndjsonReader{br: bufio.NewReaderSize(r, maxLine+1), maxLine: maxLine}
	row, err := nr.next()
	switch {
	case errors.Is(err, io.EOF):
		nr.err = io.EOF
	case err != nil:
		return nil, err
	default:
		nr.pending = &row
	}
	return nr, nil
}

// Columns reports the known fields that the valid lines read so far carry,
// all of them together: NDJSON lines are independent, so a bad or sparse
// first line does not decide what the input has. After the last row it is
// the whole input's (Scan reads it then).
func (nr *ndjsonReader) Columns() Columns { return nr.cols }

// addColumns adds the fields of the line just decoded to Columns.
func (nr *ndjsonReader) addColumns() {
	nr.cols.Username = nr.cols.Username || nr.seen[fUsername]
	nr.cols.Sub = nr.cols.Sub || nr.seen[fSub]
	nr.cols.Email = nr.cols.Email || nr.seen[fEmail]
	nr.cols.UserPoolID = nr.cols.UserPoolID || nr.seen[fUserPoolID]
	nr.cols.AccessToken = nr.cols.AccessToken || nr.seen[fAccessToken]
}

// Next returns the next non-blank line as a Row; a line that is not a JSON
// object, or gives a known field a value that is not a string, comes back
// with Err set.
func (nr *ndjsonReader) Next() (Row, error) {
	if nr.pending != nil {
		row := *nr.pending
		nr.pending = nil
		return row, nil
	}
	if nr.err != nil {
		return Row{}, nr.err
	}
	row, err := nr.next()
	if err != nil {
		nr.err = err
	}
	return row, err
}

// next reads up to the next non-blank line and decodes it.
func (nr *ndjsonReader) next() (Row, error) {
	for {
		raw, err := nr.br.ReadSlice('\n')
		if len(raw) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return Row{}, io.EOF
			}
			return Row{}, fmt.Errorf("read ndjson: %w", err)
		}
		nr.line++
		if errors.Is(err, bufio.ErrBufferFull) {
			if err := nr.skipLine(); err != nil {
				return Row{}, err
			}
			nr.n++
			return Row{N: nr.n, Line: nr.line,
				Err: fmt.Sprintf("ndjson: line %d is longer than %d bytes", nr.line, nr.maxLine)}, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Row{}, fmt.Errorf("read ndjson: %w", err)
		}
		if nr.line == 1 {
			raw = bytes.TrimPrefix(raw, utf8BOM)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		nr.n++
		return nr.decode(raw), nil
	}
}

// skipLine discards the rest of an overlong line.
func (nr *ndjsonReader) skipLine() error {
	for {
		_, err := nr.br.ReadSlice('\n')
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("read ndjson: %w", err)
		}
	}
}

// decode turns one trimmed, non-empty line into a Row. Error texts name
// the line and the key, never a value (it may be a token).
func (nr *ndjsonReader) decode(raw []byte) Row {
	row := Row{N: nr.n, Line: nr.line}
	nr.vals = nr.vals[:0]
	nr.seen = [nFields]bool{}
	if raw[0] != '{' {
		row.Err = fmt.Sprintf("ndjson: line %d is not a JSON object", nr.line)
		return row
	}
	if !json.Valid(raw) {
		row.Err = syntaxErrorText(raw, nr.line)
		return row
	}
	if msg := nr.scanObject(raw); msg != "" {
		row.Err = msg
		return row
	}
	nr.addColumns()
	vals := string(nr.vals) // one allocation for all the fields of the line
	value := func(f field) string {
		if !nr.seen[f] {
			return ""
		}
		return strings.TrimSpace(vals[nr.spans[f].start:nr.spans[f].end])
	}
	row.Username = value(fUsername)
	row.UserPoolID = value(fUserPoolID)
	row.AccessToken = value(fAccessToken)
	row.Sub = value(fSub)
	row.Email = value(fEmail)
	return row
}

// scanObject walks a valid JSON object and copies the string values of the
// known keys into nr.vals. It returns an error text, or "".
func (nr *ndjsonReader) scanObject(raw []byte) string {
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] == '"' {
		keyEnd := stringEnd(raw, i)
		key := raw[i+1 : keyEnd-1]
		i = skipSpace(raw, keyEnd)
		i = skipSpace(raw, i+1) // the colon
		valEnd := valueEnd(raw, i)
		if f, known := lookupKey(key); known {
			if msg := nr.takeValue(f, key, raw[i:valEnd]); msg != "" {
				return msg
			}
		}
		i = skipSpace(raw, valEnd)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return ""
}

// takeValue copies the value of field f, given by key, into nr.vals. A
// field seen before keeps its first value if this one is the same (after
// trimming, as the Row would carry it; null counts as ""), and otherwise the
// line is invalid. It returns an error text, or "".
func (nr *ndjsonReader) takeValue(f field, key, val []byte) string {
	start := len(nr.vals)
	switch val[0] {
	case '"':
		v := val[1 : len(val)-1]
		if bytes.IndexByte(v, '\\') < 0 {
			nr.vals = append(nr.vals, v...)
		} else {
			var s string
			if err := json.Unmarshal(val, &s); err != nil {
				return fmt.Sprintf("ndjson: line %d is not valid JSON", nr.line)
			}
			nr.vals = append(nr.vals, s...)
		}
	case 'n': // null: as if the key were absent, but it counts as a column
	default:
		return fmt.Sprintf("ndjson: field %q on line %d is a JSON %s, not a string", keyName(key), nr.line, kindOf(val[0]))
	}
	if !nr.seen[f] {
		nr.spans[f], nr.keys[f], nr.seen[f] = span{start, len(nr.vals)}, key, true
		return ""
	}
	first := nr.spans[f]
	same := bytes.Equal(bytes.TrimSpace(nr.vals[first.start:first.end]), bytes.TrimSpace(nr.vals[start:]))
	nr.vals = nr.vals[:start]
	if same {
		return ""
	}
	// Name the keys, never the values (one may be a token).
	if k1, k2 := keyName(nr.keys[f]), keyName(key); k1 != k2 {
		return fmt.Sprintf("ndjson: line %d has keys %q and %q with different values (both name the %s)", nr.line, k1, k2, fieldName(f))
	}
	return fmt.Sprintf("ndjson: line %d has key %q twice, with different values", nr.line, keyName(key))
}

// fieldName names a field in messages.
func fieldName(f field) string {
	switch f {
	case fUsername:
		return "username"
	case fUserPoolID:
		return "user_pool_id"
	case fAccessToken:
		return "access_token"
	case fSub:
		return "sub"
	}
	return "email"
}

// lookupKey finds the field of a raw (still escaped) key.
func lookupKey(key []byte) (field, bool) {
	f, ok := ndjsonKeys[string(key)] // a map index by string(bytes) does not allocate
	if ok || bytes.IndexByte(key, '\\') < 0 {
		return f, ok
	}
	f, ok = ndjsonKeys[keyName(key)]
	return f, ok
}

// keyName unescapes a key; keys with escapes are rare, so this may allocate.
func keyName(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key)
	}
	quoted := make([]byte, 0, len(key)+2)
	quoted = append(append(append(quoted, '"'), key...), '"')
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return string(key)
	}
	return s
}

func kindOf(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	}
	return "number"
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string that starts at raw[i].
func stringEnd(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(raw)
}

// valueEnd returns the index just past the value that starts at raw[i];
// raw is valid JSON, so only strings and nesting need care.
func valueEnd(raw []byte, i int) int {
	switch raw[i] {
	case '"':
		return stringEnd(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				j = stringEnd(raw, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(raw)
	}
	for j := i; j < len(raw); j++ {
		switch raw[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
	}
	return len(raw)
}

// syntaxErrorText says where a line stops being JSON.
func syntaxErrorText(raw []byte, line int) string {
	var se *json.SyntaxError
	err := json.Unmarshal(raw, new(struct{}))
	// A cut-short line also has its Offset at the end; only the message
	// tells it apart. Should the text change, the offset is still right.
	if errors.As(err, &se) && se.Error() != "unexpected end of JSON input" {
		// Offset counts the bytes read up to and including the bad one.
		return fmt.Sprintf("ndjson: line %d is not valid JSON (at byte %d)", line, se.Offset)
	}
	return fmt.Sprintf("ndjson: line %d is not valid JSON (it ends too early)", line)
}
