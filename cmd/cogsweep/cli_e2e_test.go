package main_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The completion scripts load in their shell: bash is on every CI image,
// so bash's is sourced and must register cogsweep's completion function;
// the others must at least come out, each in its own syntax.
func TestE2E_CompletionScripts(t *testing.T) {
	tests := []struct {
		name  string
		shell string
		start string // what the script begins with
	}{
		{name: "bash", shell: "bash", start: "# bash completion V2 for cogsweep"},
		{name: "zsh", shell: "zsh", start: "#compdef cogsweep"},
		{name: "fish", shell: "fish", start: "# fish completion for cogsweep"},
		{name: "powershell", shell: "powershell", start: "# powershell completion for cogsweep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(binary, "completion", tt.shell).Output()
			if err != nil || !strings.HasPrefix(string(out), tt.start) {
				t.Fatalf("completion %s: %v\n%.200s", tt.shell, err, out)
			}
		})
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	out, err := exec.Command("bash", "-c", `source <("$0" completion bash) && complete -p cogsweep`, binary).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-F __start_cogsweep cogsweep") {
		t.Fatalf("bash did not load the completion: %v\n%s", err, out)
	}
}

// Help is on stdout, so that `cogsweep delete --help | less` shows it;
// stderr stays empty.
func TestE2E_HelpOnStdout(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "delete --help", args: []string{"delete", "--help"}, want: "Safety flags:"},
		{name: "help delete", args: []string{"help", "delete"}, want: "Safety flags:"},
		{name: "--help", args: []string{"--help"}, want: "Exit codes:"},
		{name: "-v", args: []string{"-v"}, want: "cogsweep "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			cmd := exec.Command(binary, tt.args...)
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil || !strings.Contains(out.String(), tt.want) || errb.Len() != 0 {
				t.Fatalf("%v: stdout %.300q, stderr %q", err, out.String(), errb.String())
			}
		})
	}
}

// On a terminal, help is wrapped to its width (read with x/term), not to
// 80 columns: util-linux script(1) gives the binary a pseudo-terminal.
func TestE2E_HelpFitsTheTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1)")
	}
	tests := []struct {
		name string
		cols int
	}{
		{name: "wide", cols: 120},
		{name: "narrow", cols: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sh := fmt.Sprintf("stty cols %d && %q delete --help", tt.cols, binary)
			out, err := exec.Command("script", "-qec", sh, "/dev/null").Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			widest := 0
			for _, l := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
				// One word longer than the usage column may stick out.
				if len(l) > tt.cols && !strings.Contains(l, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER") {
					t.Errorf("%d columns, wider than the terminal's %d: %q", len(l), tt.cols, l)
				}
				widest = max(widest, len(l))
			}
			if widest < tt.cols-10 {
				t.Errorf("widest line %d columns: not wrapped to the terminal's %d", widest, tt.cols)
			}
		})
	}
}
