package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// flagSections are the sections of a command's --help and their flags, in
// the order shown. A command shows the flags it has. A flag in none is
// listed under "Other flags" (-h, --help), and
// TestHelp_EveryFlagHasASection fails for an action's: a new flag picks
// its section.
var flagSections = []struct {
	title string
	flags []string
}{
	{"Input", []string{"user-pool-id", "input", "format", "from-report", "from-backup", "to-pool", "attributes",
		"select", "created-before", "modified-before", "max-stdin-size", "shard", "shards", "resend-invitation"}},
	{"Rate", []string{"rate", "max-rate", "burst", "read-rate", "list-rate", "create-rate", "concurrency", "max-attempts",
		"call-timeout", "usage-interval", "preflight-timeout"}},
	{"Safety", []string{"dry-run", "confirm-pool-id", "max-fraction", "max-users", "protect-group", "protect-file",
		"only-disabled-for", "backup", "restart", "retry-failed"}},
	{"Files", []string{"report", "checkpoint", "output", "summary", "html", "timeline", "temp-dir",
		"s3-endpoint-url", "s3-region", "lease-ttl"}},
	{"AWS", []string{"region", "profile", "endpoint-url", "sts-endpoint-url"}},
	{"Output", []string{"log-format", "progress", "json", "max-rows", "pushgateway", "pushgateway-job"}},
}

// inSection reports whether a flag is in one of flagSections.
func inSection(name string) bool {
	for _, s := range flagSections {
		if slices.Contains(s.flags, name) {
			return true
		}
	}
	return false
}

// flagUsages lays out flags in two columns, the flag and its value's name
// from col 0 and the usage wrapped to width from col. A usage that would
// get too narrow a column starts on the next line instead.
func flagUsages(flags []*pflag.Flag, col, width int) string {
	var b strings.Builder
	for _, f := range flags {
		left := flagLeft(f)
		_, text := pflag.UnquoteUsage(f)
		if d := shownDefault(f); d != "" {
			text += " (default " + d + ")"
		}
		if width-col < 30 {
			fmt.Fprintf(&b, "%s\n%s\n", left, wrapWords(strings.Fields(text), width, "          ", "          ", ""))
			continue
		}
		head := left + strings.Repeat(" ", max(1, col-len(left)))
		if len(left) >= col {
			head = left + "\n" + strings.Repeat(" ", col)
		}
		fmt.Fprintln(&b, wrapWords(strings.Fields(text), width, head, strings.Repeat(" ", col), ""))
	}
	return b.String()
}

// flagLeft is the flag column of f: "  -h, --help", "      --rate N".
func flagLeft(f *pflag.Flag) string {
	left := "      --" + f.Name
	if f.Shorthand != "" {
		left = "  -" + f.Shorthand + ", --" + f.Name
	}
	if name, _ := pflag.UnquoteUsage(f); name != "" && f.NoOptDefVal == "" {
		left += " " + name
	}
	return left
}

// shownDefault is f's default as help shows it, "" for a zero one.
func shownDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "[]", "0s":
		return ""
	}
	if f.Value.Type() == "string" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}
