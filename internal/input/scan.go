package input

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// defaultRunSize is how many key hashes Scan holds before spilling a sorted
// run: 8 MiB, whatever the size of the input.
const defaultRunSize = 1 << 20

// Summary is what the pre-pass learns about an input before any call.
type Summary struct {
	Rows    int    // rows, parser-rejected ones included
	SHA256  string // hex SHA-256 of the raw input bytes
	Columns Columns
	// FirstQuoteErrLine is the line where the first record with an error
	// inside a quoted field starts (0: none). delete refuses such a file.
	FirstQuoteErrLine int
	// Dups holds the hashes of non-empty keys seen more than once.
	Dups *DupSet
}

// ScanOptions tunes Scan's duplicate detection.
type ScanOptions struct {
	// RunSize is how many key hashes are held in memory before a sorted run
	// is spilled to disk (8 bytes each); 0 means 1<<20.
	RunSize int
	// TempDir receives the spill file, removed before Scan returns; ""
	// means os.TempDir().
	TempDir string
}

// Scan reads the whole input once, streaming, with default options. See
// ScanWithOptions.
func Scan(ctx context.Context, r io.Reader, f Format, key func(Row) string) (Summary, error) {
	return ScanWithOptions(ctx, r, f, key, ScanOptions{})
}

// ScanWithOptions reads the whole input once, streaming: it counts rows,
// hashes the raw bytes, finds the first quote error and the keys that
// repeat (key may be nil: no duplicate detection; an empty key is skipped).
// Memory stays bounded by opts.RunSize whatever the input size. A CSV header
// without a known column fails with ErrNoColumns. Once ctx ends it stops
// with ctx.Err(): an input may never end (/dev/zero, a line with no
// newline), and only a signal stops reading it.
func ScanWithOptions(ctx context.Context, r io.Reader, f Format, key func(Row) string, opts ScanOptions) (sum Summary, err error) {
	if opts.RunSize <= 0 {
		opts.RunSize = defaultRunSize
	}
	finder := &dupFinder{runSize: opts.RunSize, dir: opts.TempDir}
	defer func() {
		if cerr := finder.close(); cerr != nil && err == nil {
			err = fmt.Errorf("scan input: %w", cerr)
		}
	}()

	h := sha256.New()
	tee := io.TeeReader(ctxReader{ctx: ctx, r: r}, h)
	rd, err := Open(tee, f)
	if err != nil {
		return Summary{}, scanError(ctx, err)
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Summary{}, scanError(ctx, err)
		}
		sum.Rows++
		if row.QuoteErr && sum.FirstQuoteErrLine == 0 {
			sum.FirstQuoteErrLine = row.Line
		}
		if key == nil {
			continue
		}
		if k := key(row); k != "" {
			if err := finder.add(hash64(k)); err != nil {
				return Summary{}, fmt.Errorf("scan input: %w", err)
			}
		}
	}
	// Only now: NDJSON's columns are those of all its valid lines.
	sum.Columns = rd.Columns()
	// The fingerprint covers every byte, even any the parser left unread.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return Summary{}, scanError(ctx, err)
	}
	sum.SHA256 = hex.EncodeToString(h.Sum(nil))
	if sum.Dups, err = finder.finish(); err != nil {
		return Summary{}, fmt.Errorf("scan input: %w", err)
	}
	return sum, nil
}

// scanError wraps a failure of the pre-pass; once ctx ended, whatever the
// reader made of it, the cause is ctx's.
func scanError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return fmt.Errorf("scan input: %w", err)
}

// ctxReader fails every Read once ctx ended. The readers beneath Scan never
// block on it for long (a file, or stdin already spooled), so checking
// before each Read is enough to stop a read that would never end.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
