// Package input reads the rows of a run from CSV or NDJSON, streaming: it
// never holds the whole input in memory.
//
// It imports no cogsweep package; anything may import it.
package input

import (
	"crypto/sha256"
	"encoding/hex"
)

// Format is the encoding of an input.
type Format string

// Formats.
const (
	CSV    Format = "csv"
	NDJSON Format = "ndjson"
)

// Row is one data record of the input. N counts records from 1 (blank lines
// are not counted). Every field is trimmed of surrounding spaces.
type Row struct {
	N    int // 1-based record number
	Line int // line of the input where the record starts (1-based, header included)

	Username    string
	Sub         string
	Email       string
	UserPoolID  string
	AccessToken string

	// Err is set when the parser rejected this record: the row is invalid for
	// this reason and carries no usable values.
	Err string
	// QuoteErr is set when the record hit an error inside a quoted field
	// (encoding/csv's ErrQuote): the lines after it may have been swallowed.
	QuoteErr bool
}

// ID is the value that identifies the row for sharding and logs: the
// username, else the sub, else the email, else the token's fingerprint.
func (r Row) ID() string {
	switch {
	case r.Username != "":
		return r.Username
	case r.Sub != "":
		return r.Sub
	case r.Email != "":
		return r.Email
	case r.AccessToken != "":
		return "token:" + TokenFingerprint(r.AccessToken)
	}
	return ""
}

// TokenFingerprint is the first 12 hex characters of the token's SHA-256: it
// identifies a token row in reports without revealing the token.
func TokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

// Columns says which of the known columns (CSV) or fields (NDJSON) the input
// has. For NDJSON it is what its valid lines carry, any of them.
type Columns struct {
	Username, Sub, Email, UserPoolID, AccessToken bool
}

// Reader yields rows in input order. Next returns io.EOF after the last row;
// any other error is an I/O failure of the input itself. A record the parser
// rejects is not an error: it comes back as a Row with Err set.
type Reader interface {
	Columns() Columns
	Next() (Row, error)
}
