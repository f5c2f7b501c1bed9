package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// A resume over a checkpoint and a report with corrupt lines in the middle
// and zeros appended (a disk, a person, a power loss) says so: one warning
// per file naming the line numbers. A torn last line alone, what a kill
// mid-append leaves, is no warning. Either way every row ends with exactly
// one outcome.
func TestE2E_CorruptLinesWarned(t *testing.T) {
	const users = 6
	tests := []struct {
		name string
		// damage rewrites the lines of a finished run's files.
		damageCheckpoint, damageReport func(lines []string) string
		want                           map[string]string // file -> line numbers warned about
	}{
		{
			name: "corrupt middle lines and zeros appended",
			damageCheckpoint: func(l []string) string {
				l = append(l[:2], append([]string{"not a record"}, l[2:]...)...) // line 3
				return strings.Join(l, "\n") + "\n" + strings.Repeat("\x00", 300)
			},
			damageReport: func(l []string) string {
				// header, rows 1-3 with zeros as line 3, zeros as line 6: rows 4-6 are redone
				return strings.Join([]string{l[0], l[1], "\x00\x00\x00\x00", l[2], l[3]}, "\n") + "\n" + strings.Repeat("\x00", 300)
			},
			want: map[string]string{"out.checkpoint": "3, 11", "out.report.ndjson": "3, 6"},
		},
		{
			name: "torn last lines only",
			damageCheckpoint: func(l []string) string {
				return strings.Join(l, "\n") + "\n" + `{"k":"i","r":`
			},
			damageReport: func(l []string) string {
				return strings.Join(l[:4], "\n") + "\n" + `{"row":4,"outc`
			},
			want: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startFake(t, fakecognito.Options{}, users)
			dir := t.TempDir()
			writeUsers(t, dir, users)
			mustRun(t, dir, url, "users.csv")
			damage(t, filepath.Join(dir, "out.checkpoint"), tc.damageCheckpoint)
			damage(t, filepath.Join(dir, "out.report.ndjson"), tc.damageReport)

			cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "users.csv",
				"--report", "out.report.ndjson", "--log-format", "json")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("resume: exit %d\n%s", exitCode(err), stderr.String())
			}
			got := map[string]string{}
			sc := bufio.NewScanner(&stderr)
			for sc.Scan() {
				var rec struct {
					Level, Msg, File string
					Lines            string `json:"line_numbers"`
				}
				if json.Unmarshal(sc.Bytes(), &rec) != nil || !strings.Contains(rec.Msg, "corrupt") {
					continue
				}
				if rec.Level != "WARN" {
					t.Errorf("logged at %s, want WARN: %s", rec.Level, sc.Text())
				}
				base := filepath.Base(rec.File)
				if _, dup := got[base]; dup {
					t.Errorf("a second warning for %s: %s", base, sc.Text())
				}
				got[base] = rec.Lines
			}
			if len(got) != len(tc.want) {
				t.Errorf("warnings %v, want %v", got, tc.want)
			}
			for f, want := range tc.want {
				if got[f] != want {
					t.Errorf("%s: warned about lines %q, want %q", f, got[f], want)
				}
			}
			recs := lines(t, filepath.Join(dir, "out.report.ndjson")) // fails on a row with two lines
			for i := 1; i <= users; i++ {
				if _, ok := recs[i]; !ok {
					t.Errorf("row %d has no outcome", i)
				}
			}
			if len(recs) != users {
				t.Errorf("%d outcomes for %d rows", len(recs), users)
			}
		})
	}
}

// damage replaces the file at path with what fn makes of its lines.
func damage(t *testing.T, path string, fn func(lines []string) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if err := os.WriteFile(path, []byte(fn(l)), 0o600); err != nil {
		t.Fatal(err)
	}
}
