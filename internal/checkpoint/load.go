package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cogsweep/cogsweep/internal/fsutil"
)

// Load reads the checkpoint at path without locking or changing it. An empty
// file has no header and no error. A torn last line (a kill in the middle of
// a write) is dropped; an unparsable record line is counted in Skipped and
// listed in Corrupt, as is a torn tail that is not a crash's (TornByCrash). A
// header that is truncated or not a checkpoint header is an error wrapping
// ErrCorrupt that names the file; a newer format wraps ErrVersion.
func Load(path string) (State, error) {
	f, err := os.Open(path)
	if err != nil {
		return State{}, fmt.Errorf("load checkpoint: %w", err)
	}
	defer f.Close()
	st, err := load(f)
	if err != nil {
		return State{}, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	return st, nil
}

// record is every record but the header, for decoding lines not in the fast
// path's exact shape.
type record struct {
	K      string    `json:"k"`
	R      int       `json:"r"`
	S      *string   `json:"s"`
	N      int       `json:"n"`
	PID    int       `json:"pid"`
	At     time.Time `json:"at"`
	Status string    `json:"status"`
	Reason string    `json:"reason"`
}

// Record kinds, the "k" field.
const (
	kindRun    = "run"
	kindIntent = "i"
	kindEnd    = "end"
)

func load(r io.Reader) (State, error) {
	var st State
	lr := fsutil.NewLineReader(r, 0)
	raw, _, complete, err := lr.Next()
	if errors.Is(err, io.EOF) {
		return st, nil // empty: a new checkpoint
	}
	if err != nil {
		return st, err
	}
	if !complete {
		return st, fmt.Errorf("%w: header line is truncated", ErrCorrupt)
	}
	if err := json.Unmarshal(raw, &st.Header); err != nil || st.Header.Kind != HeaderKind {
		return State{}, fmt.Errorf("%w: first line is not a checkpoint header", ErrCorrupt)
	}
	if st.Header.V != Version {
		return State{}, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, st.Header.V, Version)
	}
	st.HasHeader = true
	st.hdrLen = int64(len(raw)) + 1
	ended := false
	for n := 2; ; n++ { // n is the line number; the header was line 1
		raw, _, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return State{}, err
		}
		if !complete {
			st.Torn = true
			if !fsutil.TornByCrash(raw) {
				st.Corrupt.Add(n)
			}
			continue
		}
		if _, _, ok := parseIntent(raw); ok {
			st.Intents++
			continue
		}
		var rec record
		if json.Unmarshal(raw, &rec) != nil {
			st.Skipped++
			st.Corrupt.Add(n)
			continue
		}
		switch {
		case rec.K == kindIntent && validIntent(rec):
			st.Intents++
		case rec.K == kindRun && rec.N >= 1:
			st.Runs = max(st.Runs, rec.N)
			ended = false
		case rec.K == kindEnd && validStatus(rec.Status):
			ended = true
			st.LastStatus, st.LastReason, st.EndedAt = rec.Status, rec.Reason, rec.At
		default:
			st.Skipped++
			st.Corrupt.Add(n)
		}
	}
	st.Ended = ended
	return st, nil
}

func validIntent(rec record) bool {
	if rec.R < 1 || rec.S == nil {
		return false
	}
	_, ok := readValue([]byte(*rec.S))
	return ok
}

// intents streams the record lines after the header and keeps the latest
// intent per row for which keep returns true (every row when keep is nil).
func intents(r io.Reader, off int64, keep func(row int) bool) (map[int]string, error) {
	out := make(map[int]string)
	lr := fsutil.NewLineReader(r, off)
	for {
		raw, _, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if !complete {
			continue
		}
		row, read, ok := parseIntent(raw)
		if !ok {
			var rec record
			if json.Unmarshal(raw, &rec) != nil || rec.K != kindIntent || !validIntent(rec) {
				continue
			}
			row = rec.R
			read, _ = readValue([]byte(*rec.S))
		}
		if keep == nil || keep(row) {
			out[row] = read
		}
	}
}

// maxRowDigits keeps a parsed row from overflowing an int.
const maxRowDigits = 15

// parseIntent reads the exact line appendIntent writes,
// {"k":"i","r":N,"s":"X"}, without a JSON decoder; anything else is left to
// encoding/json.
func parseIntent(raw []byte) (row int, read string, ok bool) {
	const pre = `{"k":"i","r":`
	if len(raw) < len(pre) || string(raw[:len(pre)]) != pre {
		return 0, "", false
	}
	i := len(pre)
	start := i
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		row = row*10 + int(raw[i]-'0')
		i++
		if i-start > maxRowDigits {
			return 0, "", false
		}
	}
	if i == start || raw[start] == '0' {
		return 0, "", false
	}
	const mid = `,"s":"`
	if len(raw)-i < len(mid) || string(raw[i:i+len(mid)]) != mid {
		return 0, "", false
	}
	i += len(mid)
	const end = `"}`
	if len(raw)-i < len(end) || string(raw[len(raw)-len(end):]) != end {
		return 0, "", false
	}
	read, ok = readValue(raw[i : len(raw)-len(end)])
	return row, read, ok
}

// appendIntent appends the intent line parseIntent reads, newline included.
// read must be one of the Read constants, which need no JSON escaping.
func appendIntent(dst []byte, row int, read string) []byte {
	dst = append(dst, `{"k":"i","r":`...)
	dst = strconv.AppendInt(dst, int64(row), 10)
	dst = append(dst, `,"s":"`...)
	dst = append(dst, read...)
	return append(dst, "\"}\n"...)
}
