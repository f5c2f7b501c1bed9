package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Line is one record line met by Scan.
type Line struct {
	Offset    int64 // file offset of the line's first byte
	Row       int
	Outcome   Outcome
	Transient bool
	// Raw is the line without its newline. It is valid only during the
	// callback: decode or copy it there.
	Raw []byte
}

// ScanStats counts what Scan met besides the header.
type ScanStats struct {
	Lines   int  // record lines passed to the callback
	Skipped int  // complete lines that are not a record (garbage, a row < 1, no outcome)
	Torn    bool // the file ends in a line without a newline, which was ignored
}

// ErrNoHeader means a report file's first line is not a report header: the
// file is not a cogsweep report, so it is neither appended to nor rewritten.
var ErrNoHeader = errors.New("not a cogsweep report (first line is not a report header)")

// Scan streams the record lines of the report at path, in file order, to fn.
// The header line is skipped. A line that is not a record, and a torn last
// line (one without a newline, from a process killed while writing it), are
// skipped and counted in the stats, never an error. An error from fn stops
// the scan and is returned as is.
//
// Lines written by AppendRecord are read without a JSON decoder (see
// parseLine); other lines go through encoding/json.
func Scan(path string, fn func(Line) error) (ScanStats, error) {
	var st ScanStats
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("scan report: %w", err)
	}
	defer f.Close()
	lr := fsutil.NewLineReader(f, 0)
	in := newInterner()
	first := true
	for {
		raw, off, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("scan report %s: %w", path, err)
		}
		if !complete {
			st.Torn = true
			continue
		}
		if first {
			first = false
			if isHeaderLine(raw) {
				continue
			}
		}
		row, out, tr, ok := parseLine(raw, in)
		if !ok {
			st.Skipped++
			continue
		}
		st.Lines++
		if err := fn(Line{Offset: off, Row: row, Outcome: out, Transient: tr, Raw: raw}); err != nil {
			return st, err
		}
	}
}

// ReadHeader reads the header line of the report at path. It returns an
// error wrapping ErrNoHeader when the file is empty or its first line is not
// a complete report header.
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, fmt.Errorf("read report header: %w", err)
	}
	defer f.Close()
	h, _, err := readHeader(f)
	if err != nil {
		return Header{}, fmt.Errorf("read report header %s: %w", path, err)
	}
	return h, nil
}

// readHeader decodes the first line of r and returns it with its length
// including the newline.
func readHeader(r io.Reader) (Header, int64, error) {
	lr := fsutil.NewLineReader(r, 0)
	raw, _, complete, err := lr.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return Header{}, 0, err
	}
	if err != nil || !complete {
		return Header{}, 0, ErrNoHeader
	}
	var h Header
	if json.Unmarshal(raw, &h) != nil || h.Kind != HeaderKind {
		return Header{}, 0, ErrNoHeader
	}
	return h, int64(len(raw)) + 1, nil
}

var headerPrefix = []byte(`{"kind":"header"`)

// isHeaderLine reports whether a line is a report header, cheaply for our
// own encoding.
func isHeaderLine(raw []byte) bool {
	if bytes.HasPrefix(raw, headerPrefix) {
		return true
	}
	var h struct {
		Kind string `json:"kind"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Kind == HeaderKind
}

// parseLine extracts row, outcome and transient from a record line. ok is
// false for a line that is not a record: not JSON, row < 1 or no outcome.
//
// The fast path reads the fixed prefix AppendRecord writes,
// {"row":N,"outcome":"X" then ,"transient":true or ,"action":, and checks the
// line ends with '}'. It does not validate the rest of the line: only a torn
// write could spoil it, and torn lines are the last line, which is never
// parsed. Anything else goes through encoding/json.
func parseLine(raw []byte, in *interner) (row int, out Outcome, transient, ok bool) {
	if row, out, transient, ok = parseFast(raw, in); ok {
		return row, out, transient, true
	}
	var rec struct {
		Row       int     `json:"row"`
		Outcome   Outcome `json:"outcome"`
		Transient bool    `json:"transient"`
	}
	if json.Unmarshal(raw, &rec) != nil || rec.Row < 1 || rec.Outcome == "" {
		return 0, "", false, false
	}
	return rec.Row, in.outcome([]byte(rec.Outcome)), rec.Transient, true
}

const maxRowDigits = 15 // rows beyond 10^15 cannot occur; keeps the int from overflowing

func parseFast(raw []byte, in *interner) (row int, out Outcome, transient, ok bool) {
	const pre = `{"row":`
	if len(raw) < len(pre) || string(raw[:len(pre)]) != pre || raw[len(raw)-1] != '}' {
		return 0, "", false, false
	}
	i := len(pre)
	start := i
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		row = row*10 + int(raw[i]-'0')
		i++
		if i-start > maxRowDigits {
			return 0, "", false, false
		}
	}
	if i == start || raw[start] == '0' {
		return 0, "", false, false
	}
	const mid = `,"outcome":"`
	if len(raw)-i < len(mid) || string(raw[i:i+len(mid)]) != mid {
		return 0, "", false, false
	}
	i += len(mid)
	start = i
	for i < len(raw) && raw[i] != '"' {
		if raw[i] == '\\' || raw[i] < 0x20 || raw[i] >= 0x80 {
			return 0, "", false, false // escapes or non-ASCII: let encoding/json decide
		}
		i++
	}
	if i == start || i == len(raw) {
		return 0, "", false, false
	}
	outB := raw[start:i]
	i++
	rest := raw[i:]
	const tr = `,"transient":true,`
	const act = `,"action":`
	switch {
	case bytes.HasPrefix(rest, []byte(tr)):
		transient = true
	case bytes.HasPrefix(rest, []byte(act)):
	default:
		return 0, "", false, false
	}
	return row, in.outcome(outB), transient, true
}

// interner turns outcome bytes into an Outcome without allocating for the
// outcomes a report holds (the fixed set plus a few would_* ones).
type interner struct {
	m map[string]Outcome
}

const maxInterned = 256 // bounds the map against a file of made-up outcomes

func newInterner() *interner {
	in := &interner{m: make(map[string]Outcome, 32)}
	for _, o := range []Outcome{Disabled, AlreadyDisabled, Deleted, NotFound, Duplicate, Enabled,
		AttributesDeleted, SelfDeleted, SignedOut, Protected, SkippedNotDisabled, SkippedTooRecent,
		Skipped, Restored, AlreadyExists, Invalid, Failed, NotAttempted, NotInBackup} {
		in.m[string(o)] = o
	}
	return in
}

func (in *interner) outcome(b []byte) Outcome {
	if o, ok := in.m[string(b)]; ok { // no allocation: the compiler converts for the lookup only
		return o
	}
	o := Outcome(b)
	if len(in.m) < maxInterned {
		in.m[string(o)] = o
	}
	return o
}
