package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/input"
)

// Restore reads a backup back. The file is not loaded: one scan checks
// every line and builds an index from each user's username (and, when an
// --input names users by sub or email, from those) to the offset of its
// line, which is read again when its row comes. BenchmarkOpenIndex: 51
// bytes of heap a user by username, 193 with sub and email too.

// ErrNotBackup is returned for a file whose lines are not backup lines.
var ErrNotBackup = errors.New("not a cogsweep backup")

// Entry is a backed-up user as restore reads it. NoGroups and NoEnabled
// mark a line written by an older cogsweep that did not record them.
type Entry struct {
	Line
	NoGroups, NoEnabled bool
}

// wire is a line as read, in one pass: the pointers tell a field absent
// from false or empty (they shadow Line's own).
type wire struct {
	Kind string `json:"kind"`
	Line
	Enabled *bool     `json:"enabled"`
	Groups  *[]string `json:"groups"`
}

// decode parses one line; ok is false for a line that is not a backed-up
// user (corrupt, or another file's line).
func decode(raw []byte) (Entry, bool) {
	var w wire
	if json.Unmarshal(raw, &w) != nil || w.Kind != "" || w.Username == "" || w.UserPoolID == "" || w.Attributes == nil {
		return Entry{}, false
	}
	e := Entry{Line: w.Line, NoGroups: w.Groups == nil, NoEnabled: w.Enabled == nil}
	if w.Enabled != nil {
		e.Enabled = *w.Enabled
	}
	if w.Groups != nil {
		e.Groups = *w.Groups
	}
	return e, true
}

// IndexOptions says which keys besides the username to index.
type IndexOptions struct {
	BySub, ByEmail bool
}

// Index is a scanned backup.
type Index struct {
	path   string
	f      *os.File
	byName map[string]int64
	bySub  map[string]int64 // nil unless asked
	byMail map[string]int64 // lower-cased emails; nil unless asked

	// Rows is the number of users (a user backed up twice, by a delete
	// resumed after a kill, counts once), SHA256 the file's hash up to
	// the last complete line, Pools the pools the lines name, Older the
	// lines written by an older cogsweep, TornTail whether a torn last
	// line was passed over.
	Rows     int
	SHA256   string
	Pools    []string
	Older    int
	TornTail bool
}

// OpenIndex scans the backup at path. A line that is not a backed-up
// user is an error naming it, so a restore refuses the file before any
// call; a torn last line (a kill while delete wrote it) is passed over:
// the copy is durable before its delete is sent, so that user was never
// deleted.
func OpenIndex(path string, o IndexOptions) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	x := &Index{path: path, f: f, byName: map[string]int64{}}
	if o.BySub {
		x.bySub = map[string]int64{}
	}
	if o.ByEmail {
		x.byMail = map[string]int64{}
	}
	if err := x.scan(); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *Index) scan() error {
	h := sha256.New()
	lr := fsutil.NewLineReader(x.f, 0)
	pools := map[string]bool{}
	for n := 1; ; n++ {
		raw, off, complete, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read backup %s: %w", x.path, err)
		}
		if !complete {
			x.TornTail = true
			break
		}
		h.Write(raw)
		h.Write([]byte{'\n'})
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, ok := decode(raw)
		if !ok {
			return fmt.Errorf("backup %s line %d: %w (each line must be a user as delete --backup wrote it)", x.path, n, ErrNotBackup)
		}
		if e.NoGroups || e.NoEnabled {
			x.Older++
		}
		if !pools[e.UserPoolID] {
			pools[e.UserPoolID] = true
			x.Pools = append(x.Pools, e.UserPoolID)
		}
		// The last copy of a user wins: a user deleted, created again and
		// deleted again comes back as it was last.
		x.byName[e.Username] = off
		if sub := e.Attributes["sub"]; x.bySub != nil && sub != "" {
			x.bySub[sub] = off
		}
		if mail := e.Attributes["email"]; x.byMail != nil && mail != "" {
			x.byMail[strings.ToLower(mail)] = off
		}
	}
	x.Rows = len(x.byName)
	x.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// Close closes the file.
func (x *Index) Close() error { return x.f.Close() }

// Path is the backup's path.
func (x *Index) Path() string { return x.path }

// Lookup finds the user a row names: by username, else sub, else email.
// Safe for concurrent use (it reads with ReadAt).
func (x *Index) Lookup(row input.Row) (Entry, bool, error) {
	off, ok := int64(0), false
	switch {
	case row.Username != "":
		off, ok = x.byName[row.Username]
	case row.Sub != "":
		off, ok = x.bySub[row.Sub]
	case row.Email != "":
		off, ok = x.byMail[strings.ToLower(row.Email)]
	}
	if !ok {
		return Entry{}, false, nil
	}
	raw, err := bufio.NewReader(io.NewSectionReader(x.f, off, 1<<62)).ReadBytes('\n')
	if err != nil {
		return Entry{}, false, fmt.Errorf("read backup %s at offset %d: %w", x.path, off, err)
	}
	e, ok := decode(raw)
	if !ok {
		return Entry{}, false, fmt.Errorf("backup %s changed since it was scanned (offset %d)", x.path, off)
	}
	return e, true, nil
}

// Users reads the backup's users as rows, in its order, numbered from 1:
// the rows of a restore of the whole backup. A user with several lines is
// one row, at its last line (the copy Lookup returns). Each reader has its own file
// handle: passes over the rows may overlap Lookups.
func (x *Index) Users() (input.Reader, func(), error) {
	f, err := os.Open(x.path)
	if err != nil {
		return nil, nil, fmt.Errorf("open backup: %w", err)
	}
	return &users{x: x, lr: fsutil.NewLineReader(f, 0)}, func() { f.Close() }, nil
}

type users struct {
	x    *Index
	lr   *fsutil.LineReader
	n, l int
}

func (u *users) Columns() input.Columns { return input.Columns{Username: true} }

// Next returns the next user. Lines the scan refused cannot be here
// (the run stopped); a torn tail is passed over, as the scan did.
func (u *users) Next() (input.Row, error) {
	for {
		raw, off, complete, err := u.lr.Next()
		if err != nil {
			return input.Row{}, err // io.EOF at the end
		}
		if !complete {
			return input.Row{}, io.EOF
		}
		u.l++
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		e, ok := decode(raw)
		if !ok || u.x.byName[e.Username] != off {
			continue
		}
		u.n++
		return input.Row{N: u.n, Line: u.l, Username: e.Username}, nil
	}
}
