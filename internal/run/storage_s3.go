package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/retry"
	"github.com/cogsweep/cogsweep/internal/s3sync"
	"github.com/cogsweep/cogsweep/internal/timeline"
)

// s3Storage keeps in S3 the run's paths that are s3:// addresses and hands
// the others to local. A report or a checkpoint in S3 is worked on as a
// local copy in a private temporary directory, under the checkpoint's
// lease, and uploaded in the background (s3sync.Syncer).
type s3Storage struct {
	local *localStorage
	store *s3sync.Store
	log   *slog.Logger
	ttl   time.Duration

	dir    string // private temp dir of the local copies
	lease  *s3sync.Lease
	syncer *s3sync.Syncer
}

var _ Storage = (*s3Storage)(nil)

// newStorage returns the run's storage: S3 when --input or --report is in
// S3, else local. It refuses malformed S3 addresses and a checkpoint in S3
// with a local report. s3Region is --s3-region, else the run's region.
func newStorage(ctx context.Context, o *Options, env Env, log *slog.Logger, s3Region func() (string, error)) (Storage, error) {
	local := &localStorage{log: log}
	in, rep, _, err := s3Paths(o)
	if err != nil || (!in && !rep) {
		return local, err
	}
	region := o.S3Region
	if region == "" {
		if region, err = s3Region(); err != nil {
			return nil, usage(err)
		}
	}
	cfg, err := cognito.LoadAWSConfig(ctx, cognito.Config{Region: region, Profile: o.Profile, MaxConns: 8, Log: log})
	if err != nil {
		return nil, &retry.FatalError{Code: "ConfigError", Err: err}
	}
	g := env.Getenv
	// Path-style addressing whenever the endpoint is overridden: emulators
	// answer on one host name.
	pathStyle := o.S3EndpointURL != "" || g("AWS_ENDPOINT_URL_S3") != "" || g("AWS_ENDPOINT_URL") != ""
	api := s3sync.NewClient(cfg, s3sync.ClientOptions{Region: region, EndpointURL: o.S3EndpointURL, PathStyle: pathStyle})
	return &s3Storage{local: local, store: s3sync.New(api, s3sync.Options{Log: log}), log: log, ttl: o.LeaseTTL}, nil
}

// s3Paths returns the run's S3 addresses among --input, --report and
// --checkpoint, refusing malformed ones and a checkpoint in S3 with a
// local report.
func s3Paths(o *Options) (input, rep, ckpt bool, err error) {
	for _, p := range []struct {
		flag, v string
		is      *bool
	}{{"--input", o.Input, &input}, {"--report", o.Report, &rep}, {"--checkpoint", o.Checkpoint, &ckpt}} {
		if !s3sync.IsURL(p.v) {
			continue
		}
		if _, err := s3sync.ParseURL(p.v); err != nil {
			return false, false, false, usage(fmt.Errorf("%s: %w", p.flag, err))
		}
		*p.is = true
	}
	if rep && o.Checkpoint == "" {
		ckpt = true // the checkpoint goes beside the report
	}
	if ckpt && !rep {
		return false, false, false, usage(errors.New("--checkpoint in S3 needs --report in S3 too: a pod that lost its local report would repeat the call of every row its checkpoint holds"))
	}
	return input, rep, ckpt, nil
}

// Local is a path that is no S3 address and that local storage would keep.
func (s *s3Storage) Local(path string) bool { return !s3sync.IsURL(path) && s.local.Local(path) }

// Input downloads an input in S3 into a spool that never has a name on
// disk (input.Spool), so the pre-pass and the run read it like stdin
// spooled. A missing or unreadable object is a usage error: no call has
// been made. The header records which version was read; the fingerprint
// does not: the same content uploaded again (a new ETag or version id) is
// the same input, whose unfinished run must resume rather than be refused.
func (s *s3Storage) Input(ctx context.Context, path string) (Source, error) {
	if !s3sync.IsURL(path) {
		return s.local.Input(ctx, path)
	}
	u, _ := s3sync.ParseURL(path)
	sp, err := input.NewSpool("")
	if err != nil {
		return Source{}, usage(fmt.Errorf("read input %s: %w", u, err))
	}
	info, err := s.store.Fetch(ctx, u, sp)
	if err != nil {
		sp.Close()
		if ctx.Err() != nil {
			return Source{}, batch.ErrInterrupted
		}
		return Source{}, usage(fmt.Errorf("read input: %w", err))
	}
	s.log.Info("input downloaded from S3", "input", u.String(), "etag", info.ETag, "version_id", info.VersionID, "bytes", info.Size)
	audit := map[string]any{}
	if info.ETag != "" {
		audit["input_s3_etag"] = info.ETag
		if v := info.VersionID; v != "" {
			audit["input_s3_version_id"] = v
		}
	}
	return Source{Spool: sp, Audit: audit}, nil
}

// Check hands the local paths to local: remote paths have local copies
// that cogsweep itself creates.
func (s *s3Storage) Check(files ...namedPath) error {
	var local []namedPath
	for _, f := range files {
		if !s3sync.IsURL(f.path) {
			local = append(local, f)
		}
	}
	return s.local.Check(local...)
}

// Open takes the lease of a checkpoint in S3 (waiting for a dead holder's
// to expire) and downloads the report and the checkpoint into a private
// temporary directory. A local report is local's.
func (s *s3Storage) Open(ctx context.Context, rep, ckpt string) (Files, error) {
	if !s3sync.IsURL(rep) {
		return s.local.Open(ctx, rep, ckpt)
	}
	files := Files{Report: rep, Checkpoint: ckpt, Timeline: timeline.PathFor(ckpt)}
	var err error
	if s.dir, err = os.MkdirTemp("", "cogsweep-s3-*"); err != nil {
		return Files{}, fmt.Errorf("S3 work directory: %w", err)
	}
	var mirrors, side []*s3sync.Mirror
	if s3sync.IsURL(ckpt) {
		if err := s.acquire(ctx, ckpt); err != nil {
			return Files{}, err
		}
		m, err := s.mirror(ctx, ckpt, "checkpoint")
		if err != nil {
			return Files{}, fmt.Errorf("open checkpoint: %w", err)
		}
		mirrors = append(mirrors, m)
		files.Checkpoint, files.Timeline = m.Local(), ""
		if tl := s.timeline(ctx, ckpt, m.Local()); tl != nil {
			side, files.Timeline = append(side, tl), tl.Local()
		}
	}
	m, err := s.mirror(ctx, rep, "report")
	if err != nil {
		return Files{}, fmt.Errorf("open report: %w", err)
	}
	mirrors = append(mirrors, m)
	files.Report = m.Local()
	s.syncer = s.store.NewSyncer(s.lease, mirrors, s3sync.SyncOptions{Side: side})
	return files, nil
}

// mirror downloads the object at url into its own directory sub of the
// work directory, and keeps it in step.
func (s *s3Storage) mirror(ctx context.Context, url, sub string) (*s3sync.Mirror, error) {
	u, err := s3sync.ParseURL(url)
	if err != nil {
		return nil, usage(err)
	}
	d := filepath.Join(s.dir, sub)
	if err := os.Mkdir(d, 0o700); err != nil {
		return nil, err
	}
	return s.store.OpenMirror(ctx, u, filepath.Join(d, path.Base(u.Key)), 0)
}

// timeline mirrors the run's timeline where a local run keeps it, beside
// the checkpoint ckpt, into a local copy beside the checkpoint's (local),
// so that the archives of both go to the same place. nil when it cannot:
// the timeline is a picture of the run, not part of its product.
func (s *s3Storage) timeline(ctx context.Context, ckpt, local string) *s3sync.Mirror {
	at := timeline.PathFor(ckpt)
	u, err := s3sync.ParseURL(at)
	var m *s3sync.Mirror
	if err == nil {
		m, err = s.store.OpenMirror(ctx, u, timeline.PathFor(local), 0)
	}
	if err != nil {
		s.log.Warn("the run keeps no timeline", "timeline", at, "error", err)
		return nil
	}
	return m
}

// acquire takes the lease of the checkpoint at ckpt.
func (s *s3Storage) acquire(ctx context.Context, ckpt string) error {
	u, err := s3sync.ParseURL(ckpt)
	if err != nil {
		return usage(fmt.Errorf("--checkpoint: %w", err))
	}
	s.lease, err = s.store.AcquireLease(ctx, u, s3sync.LeaseOptions{TTL: s.ttl, OnWait: func(holder string) {
		s.log.Warn("another cogsweep holds the checkpoint's lease: waiting for it to end or expire", "lease", s3sync.LeaseURL(u).String(), "holder", holder, "ttl", s.ttl)
	}})
	var held *s3sync.HeldError
	switch {
	case errors.As(err, &held):
		return usage(fmt.Errorf("%w: wait for it to end, or stop it", err))
	case err != nil && ctx.Err() != nil:
		return batch.ErrInterrupted
	case err != nil:
		return fmt.Errorf("checkpoint lease: %w", err)
	}
	return nil
}

// Start uploads what the run starts with (archives of a previous run, the
// new checkpoint header) and starts the background uploads. With a
// checkpoint in S3, an intent counts only once it is in S3.
func (s *s3Storage) Start(ctx context.Context, j batch.IntentLog) (batch.IntentLog, error) {
	if s.syncer == nil {
		return j, nil
	}
	if err := s.syncer.Start(ctx); err != nil {
		return nil, fmt.Errorf("upload to S3: %w", err)
	}
	if s.lease == nil {
		return j, nil
	}
	return s.syncer.Intents(j), nil
}

// Finish leaves the report and the checkpoint in S3 as one object each (no
// segments).
func (s *s3Storage) Finish(ctx context.Context) error {
	if s.syncer == nil {
		return nil
	}
	if err := s.syncer.Finish(ctx); err != nil {
		return fmt.Errorf("upload the final report and checkpoint to S3: %w", err)
	}
	return nil
}

// Close uploads what a run that returned early leaves (Finish was not
// reached), releases the lease and removes the local copies.
func (s *s3Storage) Close(ctx context.Context) {
	s.local.Close(ctx)
	if s.syncer != nil {
		if err := s.syncer.Close(ctx); err != nil {
			s.log.Warn("could not release the checkpoint lease (it expires by itself)", "err", err)
		}
	} else if s.lease != nil {
		_ = s.lease.Release(context.WithoutCancel(ctx))
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// defaultLeaseTTL is --lease-ttl's default: a pod restarted after a kill
// waits at most this long before it resumes.
const defaultLeaseTTL = 30 * time.Second

// S3Options are the flags of files in S3.
type S3Options struct {
	S3EndpointURL string
	S3Region      string
	LeaseTTL      time.Duration
}

func (o *Options) validateS3() []error {
	if o.LeaseTTL < time.Second {
		return []error{errors.New("--lease-ttl must be at least 1s")}
	}
	return nil
}
