package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/report"
)

func TestReport_Command(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "leavers.disable.report.ndjson")
	w, err := report.OpenWriter(rp, report.Header{Action: "disable", Input: "leavers.csv", Rows: 2, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(&report.Record{Row: 1, Outcome: report.Disabled, Action: "disable", Username: "carol", At: time.Now()})
	w.Write(&report.Record{Row: 2, Outcome: report.Invalid, Action: "disable", Input: "a b", Message: "username has a space", At: time.Now()})
	w.Close()
	page := filepath.Join(dir, "page.html")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a part of it
	}{
		{name: "text", args: []string{"report", rp}, code: 0, stdout: "username has a space"},
		{name: "html to stdout", args: []string{"report", rp, "--html", "-"}, code: 0, stdout: `<section id="problems">`},
		{name: "html to a file", args: []string{"report", "--html", page, rp}, code: 0},
		{name: "no report", args: []string{"report"}, code: ExitUsage},
		{name: "not a report", args: []string{"report", filepath.Join(dir, "nope.ndjson")}, code: ExitUsage},
		{name: "two reports", args: []string{"report", rp, rp}, code: ExitUsage},
		{name: "help", args: []string{"report", "--help"}, code: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(t.Context(), tc.args, Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }})
			if code != tc.code || !strings.Contains(out.String(), tc.stdout) {
				t.Fatalf("exit %d (want %d)\nstdout %s\nstderr %s", code, tc.code, out.String(), errOut.String())
			}
		})
	}
	if fi, err := os.Stat(page); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("page: %v %v", err, fi)
	}
	if _, err := os.Stat(page + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary page left behind")
	}
}
