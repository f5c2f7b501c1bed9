package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/redact"
)

// cmdLineError is a command line cogsweep could not parse: an unknown flag
// or command, a bad flag value. It prints as two lines, the error (with a
// did-you-mean) and where the help is, never the whole help: 94 lines
// would push the error off the screen.
type cmdLineError struct {
	cmd  *cobra.Command
	err  error
	hint string // "--rate", "disable": what the user may have meant
}

func (e *cmdLineError) Error() string { return e.err.Error() }
func (e *cmdLineError) Unwrap() error { return e.err }

func (e *cmdLineError) print(w io.Writer) {
	msg := redact.Text(e.err.Error())
	if e.hint != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.hint)
	}
	fmt.Fprintf(w, "cogsweep: %s\nsee %s --help\n", msg, e.cmd.CommandPath())
}

// flagError is cobra's FlagErrorFunc: a flag cobra could not parse.
func flagError(c *cobra.Command, err error) error {
	e := &cmdLineError{cmd: c, err: &UsageError{Err: err}}
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		if long := ne.GetSpecifiedShortnames(); len(long) > 1 && c.Flags().Lookup(long) != nil {
			e.hint = "--" + long // -input, as Go's flag package took it
		} else {
			e.hint = suggestFlag(c.Flags(), ne.GetSpecifiedName())
		}
	}
	return e
}

// unknownCommand is the error of a command that parent does not have.
func unknownCommand(parent *cobra.Command, name string) error {
	e := &cmdLineError{cmd: parent, err: &UsageError{Err: fmt.Errorf("unknown command %q", name)}}
	parent.SuggestionsMinimumDistance = 2 // cobra's own default, which SuggestionsFor does not apply
	if s := parent.SuggestionsFor(name); len(s) > 0 {
		e.hint = s[0]
	}
	return e
}

// suggestFlag is the flag of fs closest to name, as "--name", or "" when
// none is close: a prefix of it, or a few edits away.
func suggestFlag(fs *pflag.FlagSet, name string) string {
	best, bestD := "", 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = 1
		}
		if d <= maxEdits(name) && (best == "" || d < bestD) {
			best, bestD = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "--" + best
}

// maxEdits is how many edits still make a typo: more for longer names.
func maxEdits(name string) int {
	return max(2, len(name)/4)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
