package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
)

// Options are the flags of an action sub-command. Defaults come from
// NewOptions; flags and COGSWEEP_* environment variables bind into it.
type Options struct {
	Action batch.Action

	UserPoolID string
	Input      string
	Format     string
	// MaxStdinSize caps the spool of --input - (input.Spool).
	MaxStdinSize int64
	Report       string
	Checkpoint   string
	Summary      string

	Rate        string // requests/s or "auto"
	MaxRate     float64
	Burst       int
	ReadRate    float64
	Concurrency int
	MaxAttempts int
	CallTimeout time.Duration
	// UsageInterval is how often a --rate auto run reads production's
	// load from CloudWatch (watch.go); 0: never during the run.
	UsageInterval time.Duration
	// PreflightTimeout bounds the whole pre-flight (preflight.go).
	PreflightTimeout time.Duration

	Region      string
	Profile     string
	EndpointURL string
	// STSEndpointURL is the pre-flight's STS endpoint; EndpointURL is
	// Cognito's only (identity.go).
	STSEndpointURL string

	Restart      bool
	RetryFailed  bool
	DryRun       bool
	ConfirmPools stringList
	MaxUsers     int
	MaxFraction  float64
	Attributes   string
	FromReport   string
	// Backup is delete's --backup file (identity.go).
	Backup string
	// SafetyOptions are --protect-group, --protect-file,
	// --only-disabled-for and --select (safety_options.go).
	SafetyOptions
	// S3Options are --s3-endpoint-url, --s3-region and --lease-ttl (s3.go).
	S3Options

	LogFormat string
	Progress  string // auto, bar, log, off

	// Shard is --shard I/N; Shards is --shards N (the index then comes
	// from JOB_COMPLETION_INDEX). See shard.go.
	Shard  string
	Shards int
	// Pushgateway is a Prometheus Pushgateway URL (see metrics.go).
	Pushgateway    string
	PushgatewayJob string

	// Sources records where each option's value came from: "default",
	// "flag" or "env:NAME". It goes into the report header for audit.
	Sources map[string]string
	// Values holds each option's effective value as text, for the audit.
	Values map[string]string
}

// NewOptions returns the documented defaults.
func NewOptions(a batch.Action) *Options {
	return &Options{
		Action:        a,
		MaxStdinSize:  input.DefaultMaxSpool,
		Rate:          "20",
		MaxRate:       25,
		Burst:         1,
		ReadRate:      25,
		MaxAttempts:   8,
		CallTimeout:   10 * time.Second,
		UsageInterval: 5 * time.Minute,
		MaxFraction:   0.2,

		PreflightTimeout: defaultPreflightTimeout,
		LogFormat:        "auto",
		Progress:         "auto",
		Sources:          map[string]string{},

		SafetyOptions: SafetyOptions{ListRate: defaultListRate},
		S3Options:     S3Options{LeaseTTL: defaultLeaseTTL},

		PushgatewayJob: "cogsweep",
	}
}

type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// bind registers the flags of action a on fs.
func (o *Options) bind(fs *flag.FlagSet) {
	a := o.Action
	fs.StringVar(&o.UserPoolID, "user-pool-id", o.UserPoolID, "the user pool (e.g. us-east-1_AbC123); a row's user_pool_id column wins")
	if a == batch.Rollback {
		fs.StringVar(&o.FromReport, "from-report", o.FromReport, "the report of the disable run to undo (required)")
	} else {
		fs.StringVar(&o.Input, "input", o.Input, "input file, s3://bucket/key, or - for stdin (CSV or NDJSON)")
		fs.StringVar(&o.Format, "format", o.Format, "csv or ndjson (default: from the file extension; required for stdin)")
		fs.Var(sizeFlag{"max-stdin-size", &o.MaxStdinSize}, "max-stdin-size", "the most of --input - copied aside, a `size` such as 4GiB; past it the run stops (exit 2)")
	}
	fs.StringVar(&o.Report, "report", o.Report, "report file or s3://bucket/key, NDJSON (default: <input>.<action>.report.ndjson in the current directory)")
	fs.StringVar(&o.Checkpoint, "checkpoint", o.Checkpoint, "checkpoint file or s3://bucket/key (default: the report path with .checkpoint instead of .report.ndjson)")
	fs.StringVar(&o.Summary, "summary", o.Summary, "also write the end-of-run summary as JSON to this file")
	fs.Var(rateFlag{&o.Rate}, "rate", "UserUpdate requests per second for the whole job, a number `N` or auto (see README)")
	fs.Var(floatFlag{"max-rate", &o.MaxRate}, "max-rate", "the `rate` ceiling of --rate auto, per second (the default UserUpdate quota is 25/s)")
	fs.IntVar(&o.Burst, "burst", o.Burst, "token-bucket burst; 1 sends one call per gap, never a burst")
	fs.Var(floatFlag{"read-rate", &o.ReadRate}, "read-rate", "AdminGetUser requests per second, a `rate` (UserRead quota, shared with sign-ins)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "calls in flight at most (default: sized from the rate and observed latency)")
	fs.IntVar(&o.MaxAttempts, "max-attempts", o.MaxAttempts, "attempts per call, first included, on throttling and transient errors")
	fs.DurationVar(&o.CallTimeout, "call-timeout", o.CallTimeout, "timeout of each call; an expired call counts as a transient failure")
	fs.DurationVar(&o.UsageInterval, "usage-interval", o.UsageInterval, "how often --rate auto reads production's load from CloudWatch during the run (0: never)")
	fs.DurationVar(&o.PreflightTimeout, "preflight-timeout", o.PreflightTimeout, "deadline of the whole pre-flight (STS, DescribeUserPool, guards, access check): past it the run stops, exit 4")
	fs.StringVar(&o.Region, "region", o.Region, "AWS region (default: AWS_REGION / profile; else the pool id's prefix)")
	fs.StringVar(&o.Profile, "profile", o.Profile, "AWS shared-config profile")
	fs.StringVar(&o.EndpointURL, "endpoint-url", o.EndpointURL, "Cognito endpoint (moto, the local fake); AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER also works")
	o.bindIdentity(fs)
	fs.BoolVar(&o.Restart, "restart", o.Restart, "archive the checkpoint and report of an earlier run and start over")
	fs.BoolVar(&o.RetryFailed, "retry-failed", o.RetryFailed, "on resume, also retry rows that failed permanently")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "read each user and report what would be done; no mutating call")
	if a.Destructive() {
		fs.Var(&o.ConfirmPools, "confirm-pool-id", "the pool id again, to confirm an irreversible action (repeatable)")
	}
	if a == batch.Delete {
		fs.Var(floatFlag{"max-fraction", &o.MaxFraction}, "max-fraction", "refuse to delete more than this `fraction` of a pool's users (DescribeUserPool's estimate; 1 turns it off); judged once, at the run's first start")
	}
	fs.IntVar(&o.MaxUsers, "max-users", o.MaxUsers, "refuse inputs (or selections) with more than this many rows (0: no limit); judged once, at the run's first start")
	o.bindSafety(fs)
	o.bindS3(fs)
	if a == batch.DeleteAttributes {
		fs.StringVar(&o.Attributes, "attributes", o.Attributes, "comma-separated attribute names to delete (custom ones as custom:name)")
	}
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "auto, text or json (auto: text on a terminal, JSON otherwise)")
	fs.StringVar(&o.Progress, "progress", o.Progress, "auto, bar, log or off (auto: a bar on a terminal, else a log line every 10s)")
	fs.StringVar(&o.Shard, "shard", o.Shard, "run shard I of N (I/N, from 0): the rows whose user hashes to I; rates are divided by N")
	fs.IntVar(&o.Shards, "shards", o.Shards, "number of shards; the index comes from --shard or JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	fs.StringVar(&o.Pushgateway, "pushgateway", o.Pushgateway, "Prometheus Pushgateway URL: push progress every 30s and the result at the end")
	fs.StringVar(&o.PushgatewayJob, "pushgateway-job", o.PushgatewayJob, "job label of the pushed metrics (give each CronJob its own)")
}

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return "COGSWEEP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// parse parses args into o. Flags given on the command line win over
// COGSWEEP_* variables, which win over defaults.
func (o *Options) parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		src := "default"
		switch {
		case set[f.Name]:
			src = "flag"
		case getenv(envName(f.Name)) != "":
			if err := f.Value.Set(getenv(envName(f.Name))); err != nil {
				errs = append(errs, fmt.Errorf("%s (--%s): %w", envName(f.Name), f.Name, err))
			}
			src = "env:" + envName(f.Name)
		}
		o.Sources[f.Name] = src
	})
	o.Values = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { o.Values[f.Name] = f.Value.String() })
	return errors.Join(errs...)
}

// Validate checks what can be checked without reading the input.
func (o *Options) Validate() error {
	var errs []error
	if o.Action == batch.Rollback {
		if o.FromReport == "" {
			errs = append(errs, errors.New("--from-report is required: the report of the disable run to undo"))
		}
	} else if o.Input == "" && o.Select == "" {
		errs = append(errs, errors.New("--input is required (a file, or - for stdin; or --select a query)"))
	}
	if o.Input == "-" && o.Format == "" {
		errs = append(errs, errors.New("--format csv|ndjson is required when the input is stdin"))
	}
	if o.Format != "" && o.Format != "csv" && o.Format != "ndjson" {
		errs = append(errs, fmt.Errorf("--format %q: want csv or ndjson", o.Format))
	}
	if err := checkRate(o.Rate); err != nil {
		errs = append(errs, err)
	}
	if !positive(o.MaxRate) {
		errs = append(errs, fmt.Errorf("--max-rate %g: want a positive number of requests per second", o.MaxRate))
	}
	if !positive(o.ReadRate) {
		errs = append(errs, fmt.Errorf("--read-rate %g: want a positive number of requests per second", o.ReadRate))
	}
	if o.Burst < 1 {
		errs = append(errs, errors.New("--burst must be at least 1"))
	}
	if o.Concurrency < 0 || o.Concurrency > 512 {
		errs = append(errs, errors.New("--concurrency must be between 1 and 512 (0: automatic)"))
	}
	if o.MaxAttempts < 1 {
		errs = append(errs, errors.New("--max-attempts must be at least 1"))
	}
	if o.CallTimeout <= 0 {
		errs = append(errs, errors.New("--call-timeout must be positive"))
	}
	if o.UsageInterval < 0 {
		errs = append(errs, errors.New("--usage-interval must be 0 (off) or positive"))
	}
	if o.PreflightTimeout <= 0 {
		errs = append(errs, errors.New("--preflight-timeout must be positive"))
	}
	if !(o.MaxFraction > 0 && o.MaxFraction <= 1) { // NaN fails both
		errs = append(errs, errors.New("--max-fraction must be in (0, 1]; 1 turns the guard off"))
	}
	if o.MaxUsers < 0 {
		errs = append(errs, errors.New("--max-users must not be negative"))
	}
	switch o.LogFormat {
	case "auto", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want auto, text or json", o.LogFormat))
	}
	switch o.Progress {
	case "auto", "bar", "log", "off":
	default:
		errs = append(errs, fmt.Errorf("--progress %q: want auto, bar, log or off", o.Progress))
	}
	if o.Action == batch.DeleteAttributes {
		if _, err := ParseAttributes(o.Attributes); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.validateSafety()...)
	errs = append(errs, o.validateS3()...)
	errs = append(errs, o.validateIdentity()...)
	return errors.Join(errs...)
}

// ParseAttributes parses --attributes: a non-empty comma-separated list of
// attribute names; custom attributes keep their custom: prefix.
func ParseAttributes(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("--attributes is required: e.g. --attributes name,custom:department")
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("--attributes %q: empty attribute name", s)
		}
		if !validAttribute(p) {
			return nil, fmt.Errorf("--attributes: %q is not an attribute name (letters, digits, _ and one custom: or dev: prefix; 1-32 characters after it)", p)
		}
		if p == "sub" {
			return nil, fmt.Errorf("--attributes: %q cannot be deleted", p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func validAttribute(p string) bool {
	name := p
	for _, prefix := range []string{"custom:", "dev:"} {
		if strings.HasPrefix(p, prefix) {
			name = p[len(prefix):]
			break
		}
	}
	if name == "" || len(name) > 32 {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// positive reports whether v is a finite number above 0. NaN compares false
// with everything, so "v <= 0" alone lets it through (and a NaN or an
// infinite rate turns pacing off).
func positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

// floatFlag is a float64 flag that refuses NaN and infinities, whatever the
// flag: no option of cogsweep means anything with them. Its errors name the
// flag, for the COGSWEEP_* variables too.
type floatFlag struct {
	name string
	p    *float64
}

func (f floatFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("--%s %q: want a finite number", f.name, s)
	}
	*f.p = v
	return nil
}

// Get returns the value (flag.Getter).
func (f floatFlag) Get() any { return *f.p }

// rateFlag is --rate: a positive, finite number of requests per second, or
// auto. It is checked as it is set, so that the error of a COGSWEEP_RATE
// names the variable.
type rateFlag struct{ p *string }

func (f rateFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f rateFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if err := checkRate(s); err != nil {
		return err
	}
	*f.p = s
	return nil
}

func checkRate(s string) error {
	if s == "auto" {
		return nil
	}
	if r, err := strconv.ParseFloat(s, 64); err != nil || !positive(r) {
		return fmt.Errorf("--rate %q: want a positive number of requests per second, or auto", s)
	}
	return nil
}
