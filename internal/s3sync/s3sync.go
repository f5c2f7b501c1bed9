// Package s3sync keeps cogsweep's files in Amazon S3, for runs whose disk
// disappears with their pod: it streams an input object into a private local
// file, mirrors the report and the checkpoint (local files that grow by whole
// lines) to S3 while the run writes them, and guards an S3 checkpoint with a
// lease written with conditional requests, so that two pods never run the
// same checkpoint at once.
//
// The local machinery (report.Writer, checkpoint.Journal) keeps working on
// local files; this package only moves bytes. A mirrored file is, in S3, a
// base object plus append-only segment objects (see Mirror); a kill loses
// only what was not yet uploaded, and Syncer.Durable lets a caller wait until
// what it wrote is in S3.
//
// It may import fsutil and retry; only internal/run imports it, behind its
// Storage interface.
package s3sync

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cogsweep/cogsweep/internal/retry"
)

// API is the part of the S3 client this package calls. *s3.Client
// implements it; tests use an in-memory fake.
type API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ API = (*s3.Client)(nil)

// URL is an s3://bucket/key address.
type URL struct {
	Bucket string
	Key    string
}

// IsURL reports whether s names an S3 object rather than a local path.
func IsURL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseURL parses s3://bucket/key. The bucket must follow S3's naming rules
// (3-63 lowercase letters, digits, dots and hyphens) and the key must name an
// object, not a folder.
func ParseURL(s string) (URL, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return URL{}, fmt.Errorf("%q is not an s3://bucket/key address", s)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return URL{}, fmt.Errorf("%q: bucket name %q is not valid (3-63 lowercase letters, digits, dots and hyphens)", s, bucket)
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return URL{}, fmt.Errorf("%q names no object: give s3://%s/path/to/file", s, bucket)
	}
	if len(key) > 900 {
		// S3 allows 1024 bytes; segment and archive suffixes need room.
		return URL{}, fmt.Errorf("%q: key is longer than 900 bytes", s)
	}
	return URL{Bucket: bucket, Key: key}, nil
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '.') && i > 0 && i < len(b)-1:
		default:
			return false
		}
	}
	return true
}

func (u URL) String() string { return "s3://" + u.Bucket + "/" + u.Key }

// With returns the address of the object whose key is u's plus suffix.
func (u URL) With(suffix string) URL { return URL{Bucket: u.Bucket, Key: u.Key + suffix} }

// ClientOptions are the S3 settings on top of the shared AWS config.
type ClientOptions struct {
	// Region of the bucket; empty keeps the config's.
	Region string
	// EndpointURL overrides the SDK's endpoint resolution (moto, MinIO);
	// empty keeps it, AWS_ENDPOINT_URL_S3 included.
	EndpointURL string
	// PathStyle addresses buckets as http://host/bucket/key, which
	// emulators need (they answer on one host name).
	PathStyle bool
}

// NewClient returns an S3 client on cfg (its credential chain and HTTP
// client) with SDK retries off: Store's loop owns retries, because after an
// ambiguous failure of a conditional write only it knows how to tell whether
// the first attempt took effect (see Store.put).
func NewClient(cfg aws.Config, o ClientOptions) *s3.Client {
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Region != "" {
			so.Region = o.Region
		}
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
		so.UsePathStyle = o.PathStyle
		so.Retryer = aws.NopRetryer{}
		// Objects written without a checksum are common (and ours are
		// whole-line files checked by their reader); the SDK would log
		// each such GET to stderr.
		so.DisableLogOutputChecksumValidationSkipped = true
	})
}

// Options tune a Store. The zero value of each field means its default.
type Options struct {
	// Attempts per S3 call, the first included (default 5).
	Attempts int
	// CallTimeout bounds a call that moves little data (default 20 s).
	CallTimeout time.Duration
	// IdleTimeout stops a transfer that moved no byte for this long, so a
	// stalled connection is retried rather than waited on for ever
	// (default 60 s).
	IdleTimeout time.Duration
	// Log receives retries and background failures (default: discarded).
	Log *slog.Logger
}

// Store is an S3 API used with cogsweep's retry policy. Every object it
// writes carries a fresh random token in its metadata, by which it
// recognises its own earlier write after a failure whose outcome is unknown.
type Store struct {
	api  API
	opts Options
	log  *slog.Logger
}

// New returns a Store over api.
func New(api API, opts Options) *Store {
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 20 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{api: api, opts: opts, log: log}
}

// Metadata keys (S3 returns them lower-cased).
const (
	metaWrite  = "cogsweep-write"  // token of the PutObject that wrote the object
	metaEpoch  = "cogsweep-epoch"  // a base object's epoch (see Mirror)
	metaHolder = "cogsweep-holder" // a lease's holder
	metaTTL    = "cogsweep-ttl-ms" // a lease's TTL
)

// ErrPrecondition means a conditional write found the object in another
// state than the writer believed: someone else wrote it.
var ErrPrecondition = errors.New("S3 conditional write refused (412 Precondition Failed)")

// ErrNotFound means the object does not exist.
var ErrNotFound = errors.New("S3 object not found")

func newToken() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call runs fn with retries on transient failures: up to Attempts attempts,
// each with a timeout, with exponential backoff and full jitter between them.
// It returns whether some failed attempt may have been applied by S3 (the
// request may have reached it), which matters to conditional writes.
func (s *Store) call(ctx context.Context, op string, timeout time.Duration, fn func(ctx context.Context) error) (maybeApplied bool, err error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, timeout)
		}
		err = fn(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !transient(err) || attempt >= s.opts.Attempts {
			return maybeApplied, err
		}
		maybeApplied = true
		d := backoff(attempt)
		s.log.Debug("S3 call failed; retrying", "op", op, "attempt", attempt, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return maybeApplied, err
		case <-t.C:
		}
	}
}

// backoff is the wait after a failed attempt: full jitter over an
// exponential ceiling (200 ms, 400 ms, ... at most 5 s).
func backoff(attempt int) time.Duration {
	ceil := min(200*time.Millisecond<<min(attempt-1, 10), 5*time.Second)
	return time.Duration(rand.Int64N(int64(ceil))) + time.Millisecond
}

// httpStatus returns the HTTP status of a failed call, 0 when none arrived.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isPrecondition(err error) bool {
	return errors.Is(err, ErrPrecondition) || errorCode(err) == "PreconditionFailed" || httpStatus(err) == 412
}

func isNotFound(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket":
		return false
	}
	return httpStatus(err) == 404 && errorCode(err) == ""
}

// transient reports failures worth another attempt: no response at all (a
// reset, a timeout), S3's 5xx and SlowDown, and 409 ConditionalRequestConflict
// (two conditional writes raced; S3 asks to retry).
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // our own cancellation: the caller is stopping
	}
	if ce := (*retry.CredentialsError)(nil); errors.As(err, &ce) {
		return false // no credentials: every attempt would fail the same way
	}
	switch errorCode(err) {
	case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "ConditionalRequestConflict":
		return true
	}
	switch st := httpStatus(err); {
	case st == 0:
		var ae smithy.APIError
		return !errors.As(err, &ae)
	case st >= 500, st == 429, st == 409, st == 408:
		return true
	}
	return false
}

// describe names the step and the object that failed.
func describe(op string, u URL, err error) error {
	return fmt.Errorf("%s %s: %w", op, u, err)
}
