package cli

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/run"
)

const actionExitCodes = "0 ok, 2 usage, 3 some rows invalid/failed, 4 aborted or refused, 75 interrupted (run the same command again to resume)."

// actionCommand is the command of action a. Its flags bind into the
// action's options; everything after the command line is internal/run's.
func actionCommand(ctx context.Context, a batch.Action, env Env) *cobra.Command {
	o := run.NewOptions(a)
	fs := pflag.NewFlagSet(string(a), pflag.ContinueOnError)
	fs.SortFlags = false
	bind(o, fs)
	syn := synopses[a]
	c := &cobra.Command{
		Use: string(a), Short: syn.short, Long: syn.long, Example: syn.example, GroupID: groupActions,
		Annotations: map[string]string{annExitCodes: actionExitCodes, annEnv: "yes"},
		Args:        noArgs,
		RunE: func(*cobra.Command, []string) error {
			return runAction(ctx, o, fs, env)
		},
	}
	c.Flags().SortFlags = false
	c.Flags().AddFlagSet(fs)
	completeAction(c)
	return c
}

// runAction completes o from the environment, checks it and hands it to
// the run.
func runAction(ctx context.Context, o *run.Options, fs *pflag.FlagSet, env Env) error {
	if err := parse(o, fs, env.Getenv); err != nil {
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

// synopsis is what an action's help says before its flags.
type synopsis struct{ short, long, example string }

var synopses = map[batch.Action]synopsis{
	batch.Disable: {"AdminDisableUser (reads each user first; already disabled users cost no write)",
		"Disable each user of the input (AdminDisableUser). Each user is read first (AdminGetUser): already disabled users are reported already_disabled without a write, so rollback stays exact.",
		"cogsweep disable --user-pool-id us-east-1_AbC123 --input leavers.csv"},
	batch.Delete: {"AdminDeleteUser (irreversible: needs --confirm-pool-id)",
		"Delete each user of the input (AdminDeleteUser). Irreversible: needs --confirm-pool-id naming the pool unless you confirm at a terminal prompt; refuses plans larger than --max-fraction of the pool.",
		"cogsweep delete --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 --input purge.csv\ncogsweep delete --user-pool-id us-east-1_AbC123 --input purge.csv --dry-run"},
	batch.Enable: {"AdminEnableUser",
		"Enable each user of the input (AdminEnableUser).",
		"cogsweep enable --user-pool-id us-east-1_AbC123 --input returning.csv"},
	batch.SignOut: {"AdminUserGlobalSignOut: revoke every session",
		"Sign each user out of every device (AdminUserGlobalSignOut): revokes their tokens.",
		"cogsweep sign-out --user-pool-id us-east-1_AbC123 --input compromised.csv"},
	batch.DeleteAttributes: {"AdminDeleteUserAttributes, or DeleteUserAttributes for rows with an access_token",
		"Delete attributes of each user: AdminDeleteUserAttributes for rows with a username, DeleteUserAttributes for rows with only an access_token. Custom attributes take the custom: prefix.",
		"cogsweep delete-attributes --attributes phone_number,custom:department --user-pool-id us-east-1_AbC123 --confirm-pool-id us-east-1_AbC123 --input scrub.csv"},
	batch.SelfDelete: {"DeleteUser with each row's access_token (no IAM credentials used)",
		"Delete each user with their own access token (DeleteUser): rows need an access_token column. No IAM credentials and no pool are used, only a region. Tokens never appear in logs or reports: a row shows its 12-hex fingerprint and the username claim read from the token (not verified).",
		"cogsweep self-delete --region us-east-1 --input deletion-requests.ndjson"},
	batch.Rollback: {"re-enable exactly the users a disable report says it disabled",
		"Re-enable exactly the users that a disable run's report says it disabled. Users that were already disabled before that run (already_disabled) stay disabled; other lines end skipped. Pool and region default to the disable run's. Below, its own report is leavers.disable.rollback.report.ndjson.",
		"cogsweep rollback --from-report leavers.disable.report.ndjson"},
	batch.Restore: {"AdminCreateUser from a delete's --backup: attributes, groups, enabled state",
		"Create again the users a delete --backup kept (AdminCreateUser, no invitation unless --resend-invitation), with their writable attributes, groups and enabled state. A user of that name in the pool is never overwritten (already_exists). --input picks users of the backup; the pool defaults to the backup's, and another needs --to-pool. Users sign in again only after a password reset.",
		"cogsweep restore --from-backup leavers.backup.ndjson --input wrongly-deleted.csv"},
}
