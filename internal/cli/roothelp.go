package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cogsweep/cogsweep/internal/batch"
)

const rootAbout = `cogsweep disables, deletes, scrubs and restores Amazon Cognito user-pool users in bulk, at a rate the account's quota allows, and can be killed and resumed at any time.`

const rootExamples = `cogsweep disable --user-pool-id us-east-1_AbC123 --input leavers.csv --report leavers.report.ndjson
cogsweep delete --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 --input - --format ndjson < purge.ndjson
cogsweep status --checkpoint leavers.checkpoint
cogsweep report leavers.disable.report.ndjson --html leavers.html`

// exitCodesHelp is README's "Exit codes", as the top-level help shows it.
var exitCodesHelp = [][2]string{
	{"0", "finished; every row ended well (disabled, deleted, not_found, duplicate, ...)"},
	{"2", "usage or input error before any call (bad flags, unreadable input, no usable column, checkpoint of another input, checkpoint held by a live run)"},
	{"3", "finished; some rows invalid or failed (see the report)"},
	{"4", "aborted by a run-wide fault (credentials, missing pool, failing service) or refused by a safety guard; rows not tried are not_attempted"},
	{"75", "interrupted by SIGINT, SIGTERM or SIGHUP: run the same command again to resume"},
}

// writeRootHelp writes `cogsweep --help`: what the tool does, examples,
// the commands by group, and the exit codes.
func writeRootHelp(w io.Writer, root *cobra.Command, width int) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  cogsweep <command> [flags]\n\nExamples:\n", wrapText(rootAbout, width, 0))
	for _, ex := range strings.Split(rootExamples, "\n") {
		fmt.Fprintln(w, wrapCommand(ex, width, 2))
	}
	for _, g := range root.Groups() {
		fmt.Fprintf(w, "\n%s\n", g.Title)
		for _, c := range byRank(root.Commands()) {
			if c.GroupID == g.ID && c.IsAvailableCommand() {
				fmt.Fprintln(w, hanging("  "+padRight(c.Name(), 19), c.Short, width))
			}
		}
	}
	fmt.Fprintln(w, "\nExit codes:")
	for _, e := range exitCodesHelp {
		fmt.Fprintln(w, hanging("  "+padRight(e[0], 4), e[1], width))
	}
	fmt.Fprintf(w, "\n%s\n", wrapText("Run 'cogsweep help <command>' or 'cogsweep <command> --help' for the flags of a command. Every flag can also be set by an environment variable: --max-users is COGSWEEP_MAX_USERS. -v, --version prints the version.", width, 0))
}

// hanging is head followed by text wrapped to width, continued lines
// indented under the text.
func hanging(head, text string, width int) string {
	return wrapWords(strings.Fields(text), width, head, strings.Repeat(" ", len(head)), "")
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}

// byRank orders the actions as batch.Actions does (disable first, the
// common case), then the other commands by name as cobra sorts them.
func byRank(cmds []*cobra.Command) []*cobra.Command {
	rank := func(c *cobra.Command) int {
		if i := slices.Index(batch.Actions, batch.Action(c.Name())); i >= 0 {
			return i
		}
		return len(batch.Actions)
	}
	out := slices.Clone(cmds)
	slices.SortStableFunc(out, func(a, b *cobra.Command) int { return rank(a) - rank(b) })
	return out
}
