package input

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fixtureRow is a Row as fixtures/input/*/expected.json spells it.
type fixtureRow struct {
	N           int    `json:"n"`
	Line        int    `json:"line"`
	Username    string `json:"username,omitempty"`
	Sub         string `json:"sub,omitempty"`
	Email       string `json:"email,omitempty"`
	UserPoolID  string `json:"user_pool_id,omitempty"`
	AccessToken string `json:"access_token,omitempty"`
	Err         string `json:"err,omitempty"`
	QuoteErr    bool   `json:"quote_err,omitempty"`
}

type fixtureExpected struct {
	Columns []string     `json:"columns"`
	Rows    []fixtureRow `json:"rows"`
	Error   string       `json:"error"` // "no_columns" or empty
}

func toFixtureRow(r Row) fixtureRow {
	return fixtureRow(r)
}

func columnNames(c Columns) []string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{c.Username, "username"}, {c.Sub, "sub"}, {c.Email, "email"}, {c.UserPoolID, "user_pool_id"}, {c.AccessToken, "access_token"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return out
}

// sameColumns compares column lists ignoring order.
func sameColumns(got, want []string) bool {
	m := map[string]int{}
	for _, s := range got {
		m[s]++
	}
	for _, s := range want {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func readAll(t *testing.T, rd Reader) []Row {
	t.Helper()
	var rows []Row
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

// TestReader_Fixtures reads every fixtures/input/<case> and compares the rows
// with its expected.json; Scan must agree on the count and the quote error.
func TestReader_Fixtures(t *testing.T) {
	dirs, err := filepath.Glob("../../fixtures/input/*")
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		cases++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			inputs, _ := filepath.Glob(filepath.Join(dir, "input.*"))
			if len(inputs) != 1 {
				t.Fatalf("want one input.* in %s, found %v", dir, inputs)
			}
			format, ok := FormatFromPath(inputs[0])
			if !ok {
				t.Fatalf("no format for %s", inputs[0])
			}
			data, err := os.ReadFile(inputs[0])
			if err != nil {
				t.Fatal(err)
			}
			var want fixtureExpected
			raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("expected.json: %v", err)
			}

			rd, err := Open(bytes.NewReader(data), format)
			if want.Error == "no_columns" {
				if !errors.Is(err, ErrNoColumns) {
					t.Fatalf("Open error = %v, want ErrNoColumns", err)
				}
				if _, err := Scan(context.Background(), bytes.NewReader(data), format, nil); !errors.Is(err, ErrNoColumns) {
					t.Fatalf("Scan error = %v, want ErrNoColumns", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := columnNames(rd.Columns()); !sameColumns(got, want.Columns) {
				t.Errorf("Columns = %v, want %v", got, want.Columns)
			}
			var got []fixtureRow
			quoteLine := 0
			for _, r := range readAll(t, rd) {
				got = append(got, toFixtureRow(r))
				if r.QuoteErr && quoteLine == 0 {
					quoteLine = r.Line
				}
			}
			if !reflect.DeepEqual(got, want.Rows) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("rows:\n%s\nwant:\n%s", g, raw)
			}

			sum, err := Scan(context.Background(), bytes.NewReader(data), format, func(r Row) string { return r.ID() })
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if sum.Rows != len(want.Rows) {
				t.Errorf("Scan Rows = %d, want %d", sum.Rows, len(want.Rows))
			}
			if sum.FirstQuoteErrLine != quoteLine {
				t.Errorf("Scan FirstQuoteErrLine = %d, want %d", sum.FirstQuoteErrLine, quoteLine)
			}
		})
	}
	if cases < 12 {
		t.Errorf("found %d fixture cases, want at least 12", cases)
	}
}
