package fsutil

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MaxListedLines is how many corrupt line numbers a warning lists; the rest
// are counted.
const MaxListedLines = 10

// BadLines counts the corrupt lines met in a file and keeps the numbers of
// the first few, so that a reader can say once, for the whole file, what it
// skipped. Memory stays bounded however corrupt the file is.
type BadLines struct {
	Count int
	First []int // 1-based line numbers, ascending, at most MaxListedLines
}

// Add records line n; lines must be added in ascending order.
func (b *BadLines) Add(n int) {
	b.Count++
	if len(b.First) < MaxListedLines {
		b.First = append(b.First, n)
	}
}

// String lists the line numbers: "4, 9, 12", or "4, ..., 40 and 7 more".
func (b BadLines) String() string {
	var s strings.Builder
	for i, n := range b.First {
		if i > 0 {
			s.WriteString(", ")
		}
		s.WriteString(strconv.Itoa(n))
	}
	if more := b.Count - len(b.First); more > 0 {
		fmt.Fprintf(&s, " and %d more", more)
	}
	return s.String()
}

// TornByCrash reports whether tail, the bytes after a file's last newline,
// looks like what a kill in the middle of one append leaves: the start of a
// JSON line. That is expected of an append-only file and is simply dropped.
// Anything else (zeros a power loss left where data never reached the disk,
// bytes that were never a record) is a corrupt line worth a word.
func TornByCrash(tail []byte) bool {
	return len(tail) > 0 && tail[0] == '{' && bytes.IndexByte(tail, 0) < 0
}
