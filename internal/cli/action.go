package cli

import (
	"context"
	"errors"
	"flag"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/run"
)

// runAction parses an action's flags and environment into its options and
// hands them to the run: everything after the command line is
// internal/run's.
func runAction(ctx context.Context, a batch.Action, args []string, env Env) error {
	o := run.NewOptions(a)
	syn := synopses[a]
	fs := newFlagSet(string(a), syn[0], syn[1], env.Stderr)
	bind(o, fs)
	if err := parse(o, fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usage(err)
	}
	if err := o.Validate(); err != nil {
		return usage(err)
	}
	sh, err := resolveShard(o.Shard, o.Shards, env.Getenv)
	if err == nil {
		err = o.Shardable(sh)
	}
	if err != nil {
		return usage(err)
	}
	return run.Run(ctx, o, sh, env)
}
