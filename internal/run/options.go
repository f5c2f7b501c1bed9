package run

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
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
	ConfirmPools []string
	MaxUsers     int
	MaxFraction  float64
	Attributes   string
	FromReport   string
	// Backup is delete's --backup file (identity.go).
	Backup string
	// FromBackup is restore's backup (restore.go); ToPool restores it into
	// another pool than its own; ResendInvitation lets Cognito send each
	// user its invitation; CreateRate paces AdminCreateUser (UserCreation).
	FromBackup       string
	ToPool           string
	ResendInvitation bool
	CreateRate       float64
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
	pipeline := batch.NewOptions() // the pipeline's defaults are the flags'
	return &Options{
		Action:        a,
		MaxStdinSize:  input.DefaultMaxSpool,
		Rate:          "20",
		MaxRate:       25,
		Burst:         1,
		ReadRate:      25,
		CreateRate:    25,
		MaxAttempts:   pipeline.Retry.MaxAttempts,
		CallTimeout:   pipeline.CallTimeout,
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

// clone is a copy of o that the run may complete (a shard's rates, the pool
// and region of a rollback's source run) without the caller seeing it.
func (o *Options) clone() *Options {
	c := *o
	c.ConfirmPools, c.ProtectGroups = slices.Clone(o.ConfirmPools), slices.Clone(o.ProtectGroups)
	c.Sources, c.Values = maps.Clone(o.Sources), maps.Clone(o.Values)
	return &c
}

// Validate checks what can be checked without reading the input.
func (o *Options) Validate() error {
	var errs []error
	if o.Action == batch.Rollback {
		if o.FromReport == "" {
			errs = append(errs, errors.New("--from-report is required: the report of the disable run to undo"))
		}
	} else if o.Action == batch.Restore {
		if o.FromBackup == "" {
			errs = append(errs, errors.New("--from-backup is required: the file delete --backup wrote"))
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
	if err := CheckRate(o.Rate); err != nil {
		errs = append(errs, err)
	}
	if !positive(o.MaxRate) {
		errs = append(errs, fmt.Errorf("--max-rate %g: want a positive number of requests per second", o.MaxRate))
	}
	if !positive(o.ReadRate) {
		errs = append(errs, fmt.Errorf("--read-rate %g: want a positive number of requests per second", o.ReadRate))
	}
	if !positive(o.CreateRate) {
		errs = append(errs, fmt.Errorf("--create-rate %g: want a positive number of requests per second", o.CreateRate))
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

func CheckRate(s string) error {
	if s == "auto" {
		return nil
	}
	if r, err := strconv.ParseFloat(s, 64); err != nil || !positive(r) {
		return fmt.Errorf("--rate %q: want a positive number of requests per second, or auto", s)
	}
	return nil
}
