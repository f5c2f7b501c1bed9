package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// `version`, --version and -v print one line naming the release, its
// commit and the Go version, and the audit record of a run keeps that
// same line: what a user reads is what the audit kept.
func TestVersion_SameLineAsTheAudit(t *testing.T) {
	awsEnv(t)
	_, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
	main := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(t.Context(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: os.Getenv,
			Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567"})
		return code, out.String(), errb.String()
	}
	want := "cogsweep v1.2.3 (commit 0123456789ab, " + runtime.Version() + ")\n"
	tests := []struct {
		name string
		args []string
	}{
		{name: "version", args: []string{"version"}},
		{name: "--version", args: []string{"--version"}},
		{name: "-v", args: []string{"-v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := main(tt.args...)
			if code != ExitOK || out != want {
				t.Errorf("exit %d, stdout %q, want %q\n%s", code, out, want, errs)
			}
		})
	}

	code, _, errs := main("disable", "--user-pool-id", testPool, "--input", in, "--endpoint-url", url, "--progress", "off", "--dry-run")
	if code != ExitOK {
		t.Fatalf("dry run: exit %d\n%s", code, errs)
	}
	h, _ := readReport(t, filepath.Join(dir, "in.disable.plan.report.ndjson"))
	if got := "cogsweep " + h.Audit["tool_version"].(string) + "\n"; got != want {
		t.Errorf("audit tool_version %q, version says %q", got, want)
	}
	if got := "cogsweep " + h.Version + "\n"; got != want {
		t.Errorf("report header version %q, version says %q", got, want)
	}
}
