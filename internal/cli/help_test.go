package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
	"github.com/cogsweep/cogsweep/internal/run"
)

// runCLI runs the command line with no COGSWEEP_* variables set.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(t.Context(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return result{code, out.String(), errb.String()}
}

// A command's help goes to stdout (| less, | grep), wrapped to 80 columns
// off a terminal, its examples before its flags and its flags by section.
func TestHelp_OnStdoutInSections(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		sections []string // in this order
		absent   []string
	}{
		{name: "delete", args: []string{"delete", "--help"},
			sections: []string{"Usage:\n  cogsweep delete [flags]", "Examples:\n  cogsweep delete", "Input flags:", "Rate flags:", "Safety flags:", "Files flags:", "AWS flags:", "Output flags:", "Environment:", "Exit codes:"}},
		{name: "help delete", args: []string{"help", "delete"},
			sections: []string{"Usage:\n  cogsweep delete [flags]", "Examples:", "Input flags:", "      --max-fraction"}},
		{name: "disable -h", args: []string{"disable", "-h"},
			sections: []string{"cogsweep disable [flags]", "Safety flags:\n      --dry-run"}, absent: []string{"--max-fraction", "--confirm-pool-id"}},
		{name: "status", args: []string{"status", "--help"},
			sections: []string{"Examples:", "Files flags:", "--checkpoint file", "Output flags:", "--json", "COGSWEEP_CHECKPOINT (--checkpoint)"},
			absent:   []string{"COGSWEEP_MAX_USERS", "--max-users", "Rate flags:"}},
		{name: "restore", args: []string{"restore", "--help"},
			sections: []string{"cogsweep restore [flags]", "Input flags:", "--from-backup", "--to-pool"}, absent: []string{"user_pool_id column wins"}},
		{name: "merge-reports", args: []string{"help", "merge-reports"}, sections: []string{"Examples:", "Files flags:", "--output", "--temp-dir"}},
		{name: "top level", args: []string{"--help"}, sections: []string{"Usage:", "Examples:", "Actions", "  disable ", "Other commands:", "  completion ", "  version ", "Exit codes:", "  75 "}},
		{name: "help", args: []string{"help"}, sections: []string{"Usage:", "Actions", "Exit codes:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != ExitOK || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			rest := res.stdout
			for _, s := range tt.sections {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("no %q (in order) in:\n%s", s, res.stdout)
				}
				rest = rest[i+len(s):]
			}
			for _, s := range tt.absent {
				if strings.Contains(res.stdout, s) {
					t.Errorf("help mentions %q:\n%s", s, res.stdout)
				}
			}
			for i, l := range strings.Split(res.stdout, "\n") {
				if len(l) > 80 {
					t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
				}
			}
		})
	}
}

// Every flag of every action is in a help section: a new one must pick.
func TestHelp_EveryFlagHasASection(t *testing.T) {
	for _, a := range batch.Actions {
		fs := pflag.NewFlagSet(string(a), pflag.ContinueOnError)
		bind(run.NewOptions(a), fs)
		fs.VisitAll(func(f *pflag.Flag) {
			if !inSection(f.Name) {
				t.Errorf("%s --%s is in no help section (sections.go)", a, f.Name)
			}
		})
	}
}

// A command line cogsweep cannot parse gives two lines: the error with
// what the user may have meant, and where the help is; exit 2.
func TestCLI_BadCommandLineIsTwoLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // the two lines
	}{
		{name: "unknown flag", args: []string{"disable", "--user-pool", "x"},
			want: []string{`cogsweep: unknown flag: --user-pool (did you mean --user-pool-id?)`, "see cogsweep disable --help"}},
		{name: "typo", args: []string{"delete", "--max-fractoin", "1"},
			want: []string{`cogsweep: unknown flag: --max-fractoin (did you mean --max-fraction?)`, "see cogsweep delete --help"}},
		{name: "single dash", args: []string{"status", "-checkpoint", "x"},
			want: []string{`cogsweep: unknown shorthand flag: 'c' in -checkpoint (did you mean --checkpoint?)`, "see cogsweep status --help"}},
		{name: "no suggestion", args: []string{"status", "--zzz"},
			want: []string{"cogsweep: unknown flag: --zzz", "see cogsweep status --help"}},
		{name: "bad value", args: []string{"disable", "--burst", "many"},
			want: []string{`cogsweep: invalid argument "many" for "--burst" flag: must be an integer`, "see cogsweep disable --help"}},
		{name: "unknown command", args: []string{"disabel", "--input", "x.csv"},
			want: []string{`cogsweep: unknown command "disabel" (did you mean disable?)`, "see cogsweep --help"}},
		{name: "unknown flag after an unknown command", args: []string{"delet", "--rate", "5"},
			want: []string{`cogsweep: unknown command "delet" (did you mean delete?)`, "see cogsweep --help"}},
		{name: "unknown help topic", args: []string{"help", "delet"},
			want: []string{`cogsweep: unknown command "delet" (did you mean delete?)`, "see cogsweep --help"}},
		{name: "unknown shell", args: []string{"completion", "bsh"},
			want: []string{`cogsweep: unknown command "bsh" (did you mean bash?)`, "see cogsweep completion --help"}},
		{name: "-v of a sub-command", args: []string{"status", "-v"},
			want: []string{`cogsweep: unknown shorthand flag: 'v' in -v`, "see cogsweep status --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.code != ExitUsage {
				t.Errorf("exit %d, want %d", res.code, ExitUsage)
			}
			if got := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, strings.Join(tt.want, "\n"))
			}
			if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
		})
	}
}

// Flags may follow positional arguments, as in every cobra tool.
func TestCLI_InterspersedFlags(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for i := range 2 {
		w, err := report.OpenWriter(filepath.Join(dir, []string{"a.ndjson", "b.ndjson"}[i]), report.Header{Action: "disable", Input: "in.csv",
			Rows: 2, Shard: []string{"0/2", "1/2"}[i], JobFingerprint: "job", Fingerprint: "shard" + string(rune('0'+i)), StartedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(&report.Record{Row: i + 1, Outcome: report.Disabled, Action: "disable", Username: "u" + string(rune('0'+i)), At: time.Now()})
		w.Close()
	}
	res := runCLI(t, nil, "merge-reports", "a.ndjson", "--output", "m.ndjson", "b.ndjson")
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if _, recs := readReport(t, "m.ndjson"); len(recs) != 2 {
		t.Errorf("merged %d rows, want 2", len(recs))
	}
	res = runCLI(t, nil, "report", "--max-rows", "5", "m.ndjson", "--html", "m.html")
	if _, err := os.Stat("m.html"); res.code != ExitOK || err != nil {
		t.Errorf("report with flags around the path: exit %d, %v\n%s", res.code, err, res.stderr)
	}
}
