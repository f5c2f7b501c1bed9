package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Command groups of the top-level help.
const (
	groupActions = "actions"
	groupOther   = "other"
)

// annotation keys of a command.
const (
	annExitCodes = "exit-codes" // the command's exit codes, one line
	annEnv       = "env"        // "yes": its flags bind COGSWEEP_* variables
)

// termWidth is the width help is wrapped to: the terminal's, else 80 (a
// pipe, a file, a CI log).
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 40 {
			return cols
		}
	}
	return 80
}

// writeHelp writes a command's help: what it does, examples first, then
// its flags by section, their variables and its exit codes.
func writeHelp(w io.Writer, c *cobra.Command) {
	if !c.HasParent() {
		writeRootHelp(w, c, termWidth(w))
		return
	}
	width := termWidth(w)
	use := c.UseLine()
	if c.HasAvailableSubCommands() && !c.Runnable() {
		use = c.CommandPath() + " <command>"
	}
	fmt.Fprintf(w, "Usage:\n  %s\n\n", use)
	if c.Long != "" {
		fmt.Fprintf(w, "%s\n\n", wrapText(c.Long, width, 0))
	} else if c.Short != "" {
		fmt.Fprintf(w, "%s\n\n", wrapText(c.Short, width, 0))
	}
	if c.Example != "" {
		fmt.Fprintln(w, "Examples:")
		for _, ex := range strings.Split(c.Example, "\n") {
			fmt.Fprintln(w, wrapCommand(ex, width, 2))
		}
		fmt.Fprintln(w)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintln(w, "Commands:")
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-12s %s\n", s.Name(), s.Short)
			}
		}
		fmt.Fprintln(w)
	}
	writeFlagSections(w, c.LocalFlags(), width)
	if c.Annotations[annEnv] == "yes" {
		fmt.Fprintf(w, "%s\n", wrapText(envLine(c.LocalFlags()), width, 0))
	}
	if ex := c.Annotations[annExitCodes]; ex != "" {
		fmt.Fprintf(w, "%s\n", wrapText("Exit codes: "+ex, width, 0))
	}
}

// writeFlagSections writes the flags of fs by section, all sections in
// one column layout.
func writeFlagSections(w io.Writer, fs *pflag.FlagSet, width int) {
	col := 0
	fs.VisitAll(func(f *pflag.Flag) { col = max(col, len(flagLeft(f))+3) })
	col = min(col, width/2)
	shown := func(title string, flags []*pflag.Flag) {
		if len(flags) > 0 {
			fmt.Fprintf(w, "%s flags:\n%s\n", title, flagUsages(flags, col, width))
		}
	}
	for _, sec := range flagSections {
		var flags []*pflag.Flag
		for _, name := range sec.flags {
			if f := fs.Lookup(name); f != nil && !f.Hidden {
				flags = append(flags, f)
			}
		}
		shown(sec.title, flags)
	}
	var other []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && !inSection(f.Name) {
			other = append(other, f)
		}
	})
	shown("Other", other)
}

// envLine names the COGSWEEP_* variables of a command's own flags: each
// of them when there are few, else the rule with one of them.
func envLine(fs *pflag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			names = append(names, f.Name)
		}
	})
	if len(names) == 0 {
		return ""
	}
	if len(names) <= 4 {
		vars := make([]string, len(names))
		for i, n := range names {
			vars[i] = envName(n) + " (--" + n + ")"
		}
		return "Environment: " + strings.Join(vars, ", ") + "; a flag given wins over its variable."
	}
	ex := names[0]
	if fs.Lookup("rate") != nil {
		ex = "rate"
	}
	return fmt.Sprintf("Environment: every flag above can be set by a variable named from it, e.g. --%s is %s; a flag given wins over its variable.", ex, envName(ex))
}

// wrapText wraps each paragraph of s (lines within one are joined) to
// width, indenting every line by indent.
func wrapText(s string, width, indent int) string {
	var out []string
	for _, para := range strings.Split(s, "\n\n") {
		out = append(out, wrapWords(strings.Fields(para), width, strings.Repeat(" ", indent), strings.Repeat(" ", indent), ""))
	}
	return strings.Join(out, "\n\n")
}

// wrapCommand wraps an example command line as a shell continues one: a
// backslash at the end of each line but the last.
func wrapCommand(s string, width, indent int) string {
	pad := strings.Repeat(" ", indent)
	return wrapWords(strings.Fields(s), width-2, pad, pad+"    ", " \\")
}

// wrapWords lays words out greedily within width; lines after the first
// start with rest and all but the last end with cont.
func wrapWords(words []string, width int, first, rest, cont string) string {
	var b strings.Builder
	line := first
	empty := true
	for _, w := range words {
		if !empty && len(line)+1+len(w) > width {
			b.WriteString(line + cont + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line)
	return b.String()
}
