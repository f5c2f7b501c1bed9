package input

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// FormatFromPath guesses the format from a path's extension, ignoring case:
// .csv is CSV, .ndjson and .jsonl are NDJSON. Compressed inputs (.gz and
// the like) are not supported and report false, as does any other
// extension.
func FormatFromPath(path string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, true
	case ".ndjson", ".jsonl":
		return NDJSON, true
	}
	return "", false
}

// Open returns a streaming Reader for r in format f. For CSV it reads the
// header first and fails with ErrNoColumns when it names none of the known
// columns.
func Open(r io.Reader, f Format) (Reader, error) {
	switch f {
	case CSV:
		return NewCSVReader(r)
	case NDJSON:
		return NewNDJSONReader(r)
	}
	return nil, fmt.Errorf("open input: unknown format %q (want csv or ndjson)", f)
}
