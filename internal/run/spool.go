package run

import (
	"io"
	"os"
)

// openInput opens the input for one pass: the spool (stdin, or an S3
// object, see input.Spool), or the input file.
func (r *run) openInput() (io.ReadCloser, error) {
	if r.spool != nil {
		return r.spool.Open(), nil
	}
	return os.Open(r.inputPath)
}
