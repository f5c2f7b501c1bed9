package cli

import (
	"github.com/spf13/cobra"
)

// Shell completion (`cogsweep completion bash|zsh|fish|powershell`, which
// cobra provides): commands and flags complete by themselves; these add
// the values of flags that take a word from a list, and the files of
// flags that name one.

// flagWords are the values a flag takes from a fixed list.
var flagWords = map[string][]string{
	"format":     {"csv", "ndjson"},
	"log-format": {"auto", "text", "json"},
	"progress":   {"auto", "bar", "log", "off"},
	"rate":       {"auto"},
}

// actionFiles are an action's flags that name a file, with the extensions
// to offer (none: any file).
var actionFiles = map[string][]string{
	"input": {"csv", "ndjson", "json"}, "from-report": {"ndjson"}, "from-backup": {"ndjson"},
	"report": {"ndjson"}, "checkpoint": {"checkpoint"}, "summary": {"json"},
	"protect-file": nil, "backup": {"ndjson"},
}

// completeAction registers the completions of an action's flags.
func completeAction(c *cobra.Command) {
	for name, words := range flagWords {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp))
		}
	}
	completeFiles(c, actionFiles)
	c.ValidArgsFunction = cobra.NoFileCompletions
}

// completeFiles makes the flags of c named in files complete file names
// with those extensions; a flag c does not have is skipped.
func completeFiles(c *cobra.Command, files map[string][]string) {
	for name, exts := range files {
		if c.Flags().Lookup(name) == nil {
			continue
		}
		if name == "temp-dir" {
			_ = c.MarkFlagDirname(name)
			continue
		}
		_ = c.MarkFlagFilename(name, exts...)
	}
}

// fileArgs completes positional arguments as file names with exts.
func fileArgs(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}
