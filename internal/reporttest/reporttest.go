// Package reporttest reads reports for tests: the header and one record
// per row, failing the test on a malformed line or a second line for a row
// (exactly one final outcome per row). Only tests import it.
package reporttest

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/cogsweep/cogsweep/internal/report"
)

// Read returns the header and the records by row of the report at path.
func Read(t testing.TB, path string) (report.Header, map[int]report.Record) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h report.Header
	recs := map[int]report.Record{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Kind != report.HeaderKind {
				t.Fatalf("report header: %v %q", err, sc.Text())
			}
			continue
		}
		var r report.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		if _, dup := recs[r.Row]; dup {
			t.Fatalf("row %d has two report lines", r.Row)
		}
		recs[r.Row] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read report: %v", err)
	}
	return h, recs
}

// Records is Read without the header.
func Records(t testing.TB, path string) map[int]report.Record {
	t.Helper()
	_, recs := Read(t, path)
	return recs
}
