package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/report"
)

// TestE2E_CSVRecordOverLimit: a CSV record over 1 MiB is one invalid row and
// the rows after it are acted on; the same record inside a quote that never
// closes makes delete refuse the file before any call, naming its line.
func TestE2E_CSVRecordOverLimit(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	tests := []struct {
		name     string
		input    string
		args     []string
		wantExit int
		wantOut  string                        // in the output
		want     map[int]report.Outcome        // the report's outcome per row, when there is one
		acted    map[string]bool               // user -> changed by the run
		changed  func(u fakecognito.User) bool // what "changed" means for the action
	}{
		{
			name:     "disable: one long record among others",
			input:    "username,note\n" + name(1) + "\n" + name(2) + "," + long + "\n" + name(3) + "\n",
			args:     []string{"disable"},
			wantExit: 3,
			want:     map[int]report.Outcome{1: report.Disabled, 2: report.Invalid, 3: report.Disabled},
			acted:    map[string]bool{name(1): true, name(2): false, name(3): true},
			changed:  func(u fakecognito.User) bool { return u.Disabled },
		},
		{
			name:     "disable: a long quoted note that closes",
			input:    "username,note\n" + name(1) + ",\"" + long + "\nmore\"\n" + name(3) + "\n",
			args:     []string{"disable"},
			wantExit: 3,
			want:     map[int]report.Outcome{1: report.Invalid, 2: report.Disabled},
			acted:    map[string]bool{name(1): false, name(3): true},
			changed:  func(u fakecognito.User) bool { return u.Disabled },
		},
		{
			name:     "delete: a quote that never closes refuses the file",
			input:    "username\n" + name(1) + "\n\"" + name(2) + "\n" + strings.Repeat(name(3)+"\n", 200_000),
			args:     []string{"delete", "--confirm-pool-id", pool, "--max-fraction", "1"},
			wantExit: 2,
			wantOut:  "line 3",
			acted:    map[string]bool{name(1): false, name(2): false, name(3): false},
			changed:  func(u fakecognito.User) bool { return u.Username == "" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := startFake(t, fakecognito.Options{}, 3)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(tt.input), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append(tt.args, "--user-pool-id", pool, "--input", "in.csv", "--report", "r.ndjson")
			out, err := command(t, dir, url, args...).CombinedOutput()
			if code := exitCode(err); code != tt.wantExit {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantExit, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output does not say %q:\n%s", tt.wantOut, out)
			}
			if tt.want != nil {
				recs := lines(t, filepath.Join(dir, "r.ndjson"))
				if len(recs) != len(tt.want) {
					t.Fatalf("report has %d rows, want %d: %v", len(recs), len(tt.want), recs)
				}
				for row, o := range tt.want {
					if recs[row].Outcome != o {
						t.Errorf("row %d: %s (%s), want %s", row, recs[row].Outcome, recs[row].Message, o)
					}
				}
			}
			for user, acted := range tt.acted {
				u, _ := srv.User(pool, user)
				if tt.changed(u) != acted {
					t.Errorf("%s: changed %v, want %v", user, !acted, acted)
				}
			}
		})
	}
}
