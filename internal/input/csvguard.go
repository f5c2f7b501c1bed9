package input

import (
	"bytes"
	"errors"
	"io"
)

// csvState is where recordGuard stands in encoding/csv's grammar (with
// LazyQuotes off and ',' as the separator).
type csvState uint8

const (
	stField    csvState = iota // at the start of a field
	stUnquoted                 // inside an unquoted field
	stQuoted                   // inside a quoted field
	stQuote                    // just after a quote inside a quoted field
	stQuoteCR                  // just after `"\r` inside a quoted field
	stBadLine                  // after a parse error: the rest of the line is dropped
)

// maxEmptyReads bounds reads that return nothing and no error, as bufio does.
const maxEmptyReads = 100

// recordGuard sits between the input and encoding/csv and follows the
// grammar byte by byte, so it knows where each record ends without holding
// it. encoding/csv buffers a record whole, however long; the guard stops
// passing bytes once the current record has max of them, and skip then
// drops the rest of that record, quotes followed, so that reading resumes
// at the next record with memory bounded by max.
//
// The grammar is encoding/csv's: a quote opens a quoted field only as the
// first byte of a field; in a quoted field `""` is a quote, `",`, `"\n` and
// `"\r\n` end it, and anything else after the closing quote is ErrQuote; a
// quote inside an unquoted field is ErrBareQuote. After either error
// encoding/csv drops the rest of the line, so the record ends at the next
// newline. FuzzCSV checks that the two agree on every record's end.
type recordGuard struct {
	r   io.Reader
	max int64

	buf  []byte // holds pend
	pend []byte // bytes read from r but not yet passed on
	err  error  // r's error, returned once pend is drained

	state    csvState
	n        int64 // bytes of the current record passed on
	off      int64 // bytes passed on or skipped
	line     int   // newlines passed on or skipped
	recStart int64 // offset where the current record starts
	recLine  int   // line where the current record starts
	quoteErr bool  // the current record has an error inside a quoted field
	over     bool  // the current record reached max bytes; skip must run
	// endedQuoteErr is quoteErr of the record that ended last.
	endedQuoteErr bool
}

// errStop is what Read returns while the guard holds back the rest of a
// record that is too long; csvReader turns it into one invalid row.
var errStop = errors.New("csv record held back at the length limit")

func newRecordGuard(r io.Reader, max int) *recordGuard {
	return &recordGuard{r: r, max: int64(max), recLine: 1}
}

// Read passes bytes on up to the point where the current record would
// exceed max.
func (g *recordGuard) Read(p []byte) (int, error) {
	if g.over {
		return 0, errStop
	}
	if len(g.pend) > 0 {
		k := g.feed(g.pend[:min(len(p), len(g.pend))], false)
		copy(p, g.pend[:k])
		g.pend = g.pend[k:]
		if k == 0 && g.over {
			return 0, errStop
		}
		return k, nil
	}
	if g.err != nil {
		err := g.err
		g.err = nil
		return 0, err
	}
	n, err := g.r.Read(p)
	k := g.feed(p[:n], false)
	if k < n { // the rest waits for skip
		g.buf = append(g.buf[:0], p[k:n]...)
		g.pend, g.err = g.buf, err
		if k == 0 {
			return 0, errStop
		}
		return k, nil
	}
	return n, err
}

// skip drops the rest of the record that reached max bytes, without keeping
// it, and reports whether encoding/csv would have called it ErrQuote: an
// error inside a quoted field, or a quote still open at the end of the
// input. The next Read starts with the next record.
func (g *recordGuard) skip() (quoteErr bool, err error) {
	for empty := 0; ; {
		if len(g.pend) == 0 {
			if g.err != nil {
				err, g.err = g.err, nil
				if !errors.Is(err, io.EOF) {
					return false, err
				}
				quoteErr = g.quoteErr || g.state == stQuoted
				g.endRecord()
				return quoteErr, nil
			}
			if cap(g.buf) < csvBufSize {
				g.buf = make([]byte, csvBufSize)
			}
			n, rerr := g.r.Read(g.buf[:cap(g.buf)])
			g.pend, g.err = g.buf[:n], rerr
			if n == 0 && rerr == nil {
				if empty++; empty >= maxEmptyReads {
					return false, io.ErrNoProgress
				}
			}
			continue
		}
		k := g.feed(g.pend, true)
		g.pend = g.pend[k:]
		if !g.over {
			return g.endedQuoteErr, nil
		}
	}
}

// feed runs the grammar over b and returns how many bytes it took. Passing
// (skipping false), it stops where the current record reaches max bytes and
// sets over; skipping, it stops just after the current record ends and
// clears over.
func (g *recordGuard) feed(b []byte, skipping bool) int {
	i := 0
	for i < len(b) {
		seg := b[i:]
		if !skipping {
			if g.n >= g.max {
				g.over = true
				return i
			}
			seg = seg[:min(int64(len(seg)), g.max-g.n)]
		}
		var k int
		var end bool
		switch g.state {
		case stField, stUnquoted:
			k, end = g.unquoted(seg)
		case stQuoted:
			if q := bytes.IndexByte(seg, '"'); q >= 0 {
				k, g.state = q+1, stQuote
			} else {
				k = len(seg)
			}
			g.line += bytes.Count(seg[:k], []byte{'\n'})
		case stQuote, stQuoteCR:
			k, end = 1, g.afterQuote(seg[0])
		case stBadLine:
			if j := bytes.IndexByte(seg, '\n'); j >= 0 {
				k, end = j+1, true
			} else {
				k = len(seg)
			}
		}
		i += k
		g.n += int64(k)
		g.off += int64(k)
		if end {
			g.line++
			g.endRecord()
			if skipping {
				return i
			}
		}
	}
	return i
}

// unquoted takes seg up to the next quote or newline. Without a quote
// before the newline, commas do not matter and the record simply ends.
func (g *recordGuard) unquoted(seg []byte) (k int, end bool) {
	stop := bytes.IndexByte(seg, '\n')
	upto := seg
	if stop >= 0 {
		upto = seg[:stop]
	}
	q := bytes.IndexByte(upto, '"')
	if q < 0 {
		if stop >= 0 {
			return stop + 1, true
		}
		if seg[len(seg)-1] == ',' {
			g.state = stField
		} else {
			g.state = stUnquoted
		}
		return len(seg), false
	}
	if (q == 0 && g.state == stField) || (q > 0 && seg[q-1] == ',') {
		g.state = stQuoted
	} else {
		g.state = stBadLine // ErrBareQuote
	}
	return q + 1, false
}

// afterQuote steps over the byte after a quote in a quoted field and says
// whether the record ends there.
func (g *recordGuard) afterQuote(c byte) bool {
	if g.state == stQuoteCR {
		if c == '\n' {
			return true
		}
		g.quoteErr, g.state = true, stBadLine
		return false
	}
	switch c {
	case '"':
		g.state = stQuoted
	case ',':
		g.state = stField
	case '\n':
		return true
	case '\r':
		g.state = stQuoteCR
	default:
		g.quoteErr, g.state = true, stBadLine
	}
	return false
}

func (g *recordGuard) endRecord() {
	g.endedQuoteErr = g.quoteErr
	g.state, g.n, g.quoteErr, g.over = stField, 0, false, false
	g.recStart, g.recLine = g.off, g.line+1
}
