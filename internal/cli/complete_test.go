package cli

import (
	"strings"
	"testing"
)

// The shells ask `cogsweep __complete ARGS... WORD` (what cobra's scripts
// call): commands, flags, the values of flags from a list, and file names
// with the extensions a file flag takes.
func TestComplete_CommandsFlagsValuesFiles(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      []string // completions, each on a line of its own
		directive string   // the last line
	}{
		{name: "actions", args: []string{"d"}, want: []string{"delete", "delete-attributes", "disable"}, directive: ":4"},
		{name: "other commands", args: []string{"st"}, want: []string{"status"}, directive: ":4"},
		{name: "flags", args: []string{"delete", "--max-f"}, want: []string{"--max-fraction"}, directive: ":4"},
		{name: "format", args: []string{"disable", "--format", ""}, want: []string{"csv", "ndjson"}, directive: ":4"},
		{name: "progress", args: []string{"disable", "--progress", ""}, want: []string{"auto", "bar", "log", "off"}, directive: ":4"},
		// 8 is ShellCompDirectiveFilterFileExt: the shell lists files
		// with these extensions.
		{name: "input file", args: []string{"disable", "--input", ""}, want: []string{"csv", "ndjson"}, directive: ":8"},
		{name: "report file", args: []string{"report", ""}, want: []string{"ndjson"}, directive: ":8"},
		{name: "checkpoint file", args: []string{"status", "--checkpoint", ""}, want: []string{"checkpoint"}, directive: ":8"},
		{name: "shells", args: []string{"completion", ""}, want: []string{"bash", "fish", "powershell", "zsh"}, directive: ":4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, append([]string{"__completeNoDesc"}, tt.args...)...)
			lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
			if res.code != ExitOK || lines[len(lines)-1] != tt.directive {
				t.Fatalf("exit %d, want directive %s:\n%s%s", res.code, tt.directive, res.stdout, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains("\n"+res.stdout, "\n"+w+"\n") {
					t.Errorf("no completion %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}
