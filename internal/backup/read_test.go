package backup

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
)

// writeBackup writes users with the real Writer, then appends tail.
func writeBackup(t *testing.T, users []cognito.User, tail string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.ndjson")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		if err := w.Save(i+1, "us-east-1_AbC123", u, []string{"staff"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(tail); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenIndex(t *testing.T) {
	alice := cognito.User{Username: "alice", Enabled: true, Attributes: map[string]string{"sub": "11111111-1111-4111-8111-111111111111", "email": "Alice@Example.com"}}
	bob := cognito.User{Username: "bob", Attributes: map[string]string{"sub": "22222222-2222-4222-8222-222222222222"}}
	older := `{"row":3,"user_pool_id":"us-east-1_AbC123","username":"carol","attributes":{"sub":"33333333-3333-4333-8333-333333333333"}}` + "\n"
	tests := []struct {
		name      string
		tail      string
		wantErr   error
		wantRows  int
		wantOlder int
		wantTorn  bool
	}{
		{name: "as written", wantRows: 2},
		{name: "blank lines are not users", tail: "\n  \n", wantRows: 2},
		{name: "torn last line passed over", tail: `{"row":3,"user_pool_id":"us-`, wantRows: 2, wantTorn: true},
		{name: "corrupt line refused", tail: "not json\n", wantErr: ErrNotBackup},
		{name: "a report header refused", tail: `{"kind":"header","action":"delete"}` + "\n", wantErr: ErrNotBackup},
		{name: "a line without username refused", tail: `{"user_pool_id":"us-east-1_AbC123","attributes":{}}` + "\n", wantErr: ErrNotBackup},
		{name: "older line without groups or enabled", tail: older, wantRows: 3, wantOlder: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeBackup(t, []cognito.User{alice, bob}, tt.tail)
			x, err := OpenIndex(path, IndexOptions{BySub: true, ByEmail: true})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenIndex error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer x.Close()
			if x.Rows != tt.wantRows || x.Older != tt.wantOlder || x.TornTail != tt.wantTorn {
				t.Errorf("rows %d, older %d, torn %t; want %d, %d, %t", x.Rows, x.Older, x.TornTail, tt.wantRows, tt.wantOlder, tt.wantTorn)
			}
			if len(x.Pools) != 1 || x.Pools[0] != "us-east-1_AbC123" {
				t.Errorf("pools = %q", x.Pools)
			}
			rd, closeRd, err := x.Users()
			if err != nil {
				t.Fatal(err)
			}
			defer closeRd()
			var got []string
			for {
				r, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r.Username)
				if r.N != len(got) {
					t.Errorf("row %q numbered %d, want %d", r.Username, r.N, len(got))
				}
			}
			if len(got) != tt.wantRows {
				t.Errorf("Users() = %q, want %d rows", got, tt.wantRows)
			}
		})
	}
}

func TestIndex_Lookup(t *testing.T) {
	alice := cognito.User{Username: "alice", Enabled: true, Attributes: map[string]string{"sub": "11111111-1111-4111-8111-111111111111", "email": "Alice@Example.com", "custom:team": "blue"}}
	again := cognito.User{Username: "alice", Attributes: map[string]string{"sub": "44444444-4444-4444-8444-444444444444", "custom:team": "red"}}
	path := writeBackup(t, []cognito.User{alice, again}, "")
	x, err := OpenIndex(path, IndexOptions{BySub: true, ByEmail: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	tests := []struct {
		name     string
		row      input.Row
		wantOK   bool
		wantTeam string
	}{
		{name: "username: the last copy wins", row: input.Row{Username: "alice"}, wantOK: true, wantTeam: "red"},
		{name: "sub of the first copy", row: input.Row{Sub: "11111111-1111-4111-8111-111111111111"}, wantOK: true, wantTeam: "blue"},
		{name: "email in another case", row: input.Row{Email: "alice@example.COM"}, wantOK: true, wantTeam: "blue"},
		{name: "unknown user", row: input.Row{Username: "zed"}},
	}
	if rd, closeRd, err := x.Users(); err != nil {
		t.Fatal(err)
	} else {
		defer closeRd()
		r, err := rd.Next()
		_, end := rd.Next()
		if err != nil || r.Username != "alice" || r.N != 1 || r.Line != 2 || !errors.Is(end, io.EOF) || x.Rows != 1 {
			t.Errorf("Users() = %+v, %v, then %v (rows %d); want alice once, at her last line", r, err, end, x.Rows)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok, err := x.Lookup(tt.row)
			if err != nil || ok != tt.wantOK || e.Attributes["custom:team"] != tt.wantTeam {
				t.Errorf("Lookup = %+v, %t, %v; want ok %t team %q", e, ok, err, tt.wantOK, tt.wantTeam)
			}
			if ok && (len(e.Groups) != 1 || e.NoGroups || e.NoEnabled) {
				t.Errorf("groups %q, older flags %t %t", e.Groups, e.NoGroups, e.NoEnabled)
			}
		})
	}
}
