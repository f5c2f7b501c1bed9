package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/run"
)

// bind registers the flags of action a on fs.
func bind(o *run.Options, fs *pflag.FlagSet) {
	a := o.Action
	pool := "the user `pool` (e.g. us-east-1_AbC123); a row's user_pool_id column wins"
	if a == batch.Restore {
		// A restore's rows name users of the backup, whose pool is one: no
		// row's column chooses another (run/restore.go).
		pool = "the user `pool` to restore into (default: the backup's; another pool needs --to-pool)"
	}
	fs.StringVar(&o.UserPoolID, "user-pool-id", o.UserPoolID, pool)
	if a == batch.Rollback {
		fs.StringVar(&o.FromReport, "from-report", o.FromReport, "the `report` of the disable run to undo (required)")
	} else {
		bindRestore(o, fs)
		fs.StringVar(&o.Input, "input", o.Input, "input `file`, s3://bucket/key, or - for stdin (CSV or NDJSON)")
		fs.StringVar(&o.Format, "format", o.Format, "csv or ndjson (default: from the file extension; required for stdin)")
		fs.Var(sizeFlag{"max-stdin-size", &o.MaxStdinSize}, "max-stdin-size", "the most of --input - copied aside, a `size` such as 4GiB; past it the run stops (exit 2)")
	}
	fs.StringVar(&o.Report, "report", o.Report, "report `file` or s3://bucket/key, NDJSON (default: <input>.<action>.report.ndjson in the current directory)")
	fs.StringVar(&o.Checkpoint, "checkpoint", o.Checkpoint, "checkpoint `file` or s3://bucket/key (default: the report path with .checkpoint instead of .report.ndjson)")
	fs.StringVar(&o.Summary, "summary", o.Summary, "also write the end-of-run summary as JSON to this `file`")
	fs.Var(rateFlag{&o.Rate}, "rate", "UserUpdate requests per second for the whole job, a number `N` or auto (see README)")
	fs.Var(floatFlag{"max-rate", &o.MaxRate}, "max-rate", "the `rate` ceiling of --rate auto, per second (the default UserUpdate quota is 25/s)")
	fs.IntVar(&o.Burst, "burst", o.Burst, "token-bucket burst; 1 sends one call per gap, never a burst")
	fs.Var(floatFlag{"read-rate", &o.ReadRate}, "read-rate", "AdminGetUser requests per second, a `rate` (UserRead quota, shared with sign-ins)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "calls in flight at most (default: sized from the rate and observed latency)")
	fs.IntVar(&o.MaxAttempts, "max-attempts", o.MaxAttempts, "attempts per call, first included, on throttling and transient errors")
	fs.DurationVar(&o.CallTimeout, "call-timeout", o.CallTimeout, "timeout of each call; an expired call counts as a transient failure")
	fs.DurationVar(&o.UsageInterval, "usage-interval", o.UsageInterval, "how often --rate auto reads production's load from CloudWatch during the run (0: never)")
	fs.DurationVar(&o.PreflightTimeout, "preflight-timeout", o.PreflightTimeout, "deadline of the whole pre-flight (STS, DescribeUserPool, guards, access check): past it the run stops, exit 4")
	fs.StringVar(&o.Region, "region", o.Region, "AWS `region` (default: AWS_REGION / profile; else the pool id's prefix)")
	fs.StringVar(&o.Profile, "profile", o.Profile, "AWS shared-config `profile`")
	fs.StringVar(&o.EndpointURL, "endpoint-url", o.EndpointURL, "Cognito endpoint `URL` (moto, the local fake); AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER also works")
	bindIdentity(o, fs)
	fs.BoolVar(&o.Restart, "restart", o.Restart, "archive the checkpoint and report of an earlier run and start over")
	fs.BoolVar(&o.RetryFailed, "retry-failed", o.RetryFailed, "on resume, also retry rows that failed permanently")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "read each user and report what would be done; no mutating call")
	if a.Destructive() {
		fs.Var((*listFlag)(&o.ConfirmPools), "confirm-pool-id", "the `pool` id again, to confirm an irreversible action (repeatable)")
	}
	if a == batch.Delete {
		fs.Var(floatFlag{"max-fraction", &o.MaxFraction}, "max-fraction", "refuse to delete more than this `fraction` of a pool's users (DescribeUserPool's estimate; 1 turns it off); judged once, at the run's first start")
	}
	fs.IntVar(&o.MaxUsers, "max-users", o.MaxUsers, "refuse inputs (or selections) with more than this many rows (0: no limit); judged once, at the run's first start")
	bindSafety(o, fs)
	bindS3(o, fs)
	if a == batch.DeleteAttributes {
		fs.StringVar(&o.Attributes, "attributes", o.Attributes, "comma-separated attribute `names` to delete (custom ones as custom:name)")
	}
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "auto, text or json (auto: text on a terminal, JSON otherwise)")
	fs.StringVar(&o.Progress, "progress", o.Progress, "auto, bar, log or off (auto: a bar on a terminal, else a log line every 10s)")
	fs.StringVar(&o.Shard, "shard", o.Shard, "run shard `I/N` (from 0): the rows whose user hashes to I; rates are divided by N")
	fs.IntVar(&o.Shards, "shards", o.Shards, "number of shards; the index comes from --shard or JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	fs.StringVar(&o.Pushgateway, "pushgateway", o.Pushgateway, "Prometheus Pushgateway `URL`: push progress every 30s and the result at the end")
	fs.StringVar(&o.PushgatewayJob, "pushgateway-job", o.PushgatewayJob, "job `label` of the pushed metrics (give each CronJob its own)")
}

// bindRestore registers restore's own flags (its --input is optional).
func bindRestore(o *run.Options, fs *pflag.FlagSet) {
	if o.Action != batch.Restore {
		return
	}
	fs.StringVar(&o.FromBackup, "from-backup", o.FromBackup, "the `file` delete --backup wrote (required); --input, when given, picks which of its users")
	fs.StringVar(&o.ToPool, "to-pool", o.ToPool, "restore into this `pool` rather than the backup's own")
	fs.BoolVar(&o.ResendInvitation, "resend-invitation", o.ResendInvitation, "let Cognito send each restored user an invitation with a temporary password (default: none sent)")
	fs.Var(floatFlag{"create-rate", &o.CreateRate}, "create-rate", "AdminCreateUser requests per second, a `rate` (UserCreation quota, shared with sign-ups); the ceiling of --rate auto's own controller for creates")
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "COGSWEEP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse completes o from the COGSWEEP_* variables once cobra has parsed
// the command line into fs: flags given on the command line win over
// variables, which win over defaults. It records each option's value and
// source (flag, env:NAME, default) for the audit.
func parse(o *run.Options, fs *pflag.FlagSet, getenv func(string) string) error {
	src, err := bindEnv(fs, getenv)
	for name, s := range src {
		o.Sources[name] = s
	}
	o.Values = map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) { o.Values[f.Name] = f.Value.String() })
	return err
}

// bindEnv sets each flag of fs not given on the command line from its
// COGSWEEP_* variable, and says where each flag's value came from.
func bindEnv(fs *pflag.FlagSet, getenv func(string) string) (map[string]string, error) {
	src := map[string]string{}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		s := "default"
		switch v := getenv(envName(f.Name)); {
		case f.Changed:
			s = "flag"
		case v != "":
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s (--%s): %w", envName(f.Name), f.Name, err))
			}
			s = "env:" + envName(f.Name)
		}
		src[f.Name] = s
	})
	return src, errors.Join(errs...)
}

// bindSafety registers the safety flags that apply to the action.
func bindSafety(o *run.Options, fs *pflag.FlagSet) {
	a := o.Action
	if !a.AdminCapable() || a == batch.Rollback || a == batch.Restore {
		return // their users are not in the pool to be listed or protected
	}
	fs.Var((*listFlag)(&o.ProtectGroups), "protect-group", "never touch members of this `group` (repeatable): their rows end protected; members are listed once per pool (ListUsersInGroup)")
	fs.StringVar(&o.ProtectFile, "protect-file", o.ProtectFile, "never touch the usernames in this `file`: one per line, or a CSV/NDJSON (by extension) with a username column")
	fs.StringVar(&o.Select, "select", o.Select, "choose the users with a ListUsers `filter` instead of --input, e.g. 'status = \"Disabled\"'; written to a manifest beside the report first")
	fs.Var(durationFlag{&o.CreatedBefore}, "created-before", "with --select: only users created at least this `duration` ago (30d, 36h)")
	fs.Var(durationFlag{&o.ModifiedBefore}, "modified-before", "with --select: only users last modified at least this `duration` ago (30d, 36h)")
	fs.Var(floatFlag{"list-rate", &o.ListRate}, "list-rate", "ListUsers and ListUsersInGroup requests per second, a `rate` (UserList quota, shared with production)")
	if a == batch.Delete {
		fs.Var(durationFlag{&o.OnlyDisabledFor}, "only-disabled-for", "delete only users still disabled and last modified at least this `duration` ago (30d, 720h): others end skipped_not_disabled or skipped_too_recent, and a later run tries them again")
	}
}

// bindS3 registers the flags of s3:// paths.
func bindS3(o *run.Options, fs *pflag.FlagSet) {
	fs.StringVar(&o.S3EndpointURL, "s3-endpoint-url", o.S3EndpointURL, "S3 endpoint `URL` for s3:// paths (moto, MinIO; path-style addressing); AWS_ENDPOINT_URL_S3 also works")
	fs.StringVar(&o.S3Region, "s3-region", o.S3Region, "`region` of the bucket of s3:// paths (default: the run's region)")
	fs.DurationVar(&o.LeaseTTL, "lease-ttl", o.LeaseTTL, "lease of a checkpoint in S3: renewed every third of it; a run that finds it held waits until it expires (up to twice this)")
}

// bindIdentity registers --sts-endpoint-url and delete's --backup.
func bindIdentity(o *run.Options, fs *pflag.FlagSet) {
	fs.StringVar(&o.STSEndpointURL, "sts-endpoint-url", o.STSEndpointURL, "STS endpoint `URL` of the pre-flight's GetCallerIdentity (--endpoint-url is Cognito's only); AWS_ENDPOINT_URL_STS also works")
	if o.Action == batch.Delete {
		fs.StringVar(&o.Backup, "backup", o.Backup, "before each delete, append the user as AdminGetUser and AdminListGroupsForUser return it to this local NDJSON `file` (0600), durably: 2 UserRead calls per row, and the file holds personal data (README)")
	}
}
