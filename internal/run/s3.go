package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/cognito"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/s3sync"
)

// s3Run holds what a run keeps in S3: its client, and for a report or a
// checkpoint in S3 the local copies the run works on, the lease and the
// uploads. The local machinery (report.Writer, checkpoint.Journal) never
// knows: r.reportPath and r.checkpointPath name the local copies while the
// run works, and the S3 addresses again once it has finished with them.
type s3Run struct {
	store *s3sync.Store
	input s3sync.ObjectInfo // the version of an --input in S3 that was read

	dir                string // private temp dir of the local copies
	reportURL, ckptURL string // "" when local
	lease              *s3sync.Lease
	syncer             *s3sync.Syncer
}

// s3Paths returns the run's S3 addresses among --input, --report and
// --checkpoint, refusing malformed ones and a checkpoint in S3 with a
// local report.
func (r *run) s3Paths() (input, rep, ckpt bool, err error) {
	o := r.o
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

// fetchS3Input downloads an --input in S3 into a spool that never has a
// name on disk (input.Spool), so the pre-pass and the run read it like
// stdin spooled. A missing or unreadable object is a usage
// error: no call has been made.
func (r *run) fetchS3Input(ctx context.Context) error {
	in, rep, _, err := r.s3Paths()
	if err != nil || (!in && !rep) {
		return err
	}
	if err := r.s3Client(ctx); err != nil {
		return err
	}
	if !in {
		return nil
	}
	u, _ := s3sync.ParseURL(r.o.Input)
	sp, err := input.NewSpool("")
	if err != nil {
		return usage(fmt.Errorf("read input %s: %w", u, err))
	}
	info, err := r.s3.store.Fetch(ctx, u, sp)
	if err != nil {
		sp.Close()
		if ctx.Err() != nil {
			return batch.ErrInterrupted
		}
		return usage(fmt.Errorf("read input: %w", err))
	}
	r.spool = sp
	r.s3.input = info
	r.log.Info("input downloaded from S3", "input", u.String(), "etag", info.ETag, "version_id", info.VersionID, "bytes", info.Size)
	return nil
}

// auditS3 records in the report header which version of an S3 input was
// read. The fingerprint does not include it: the same content uploaded
// again (a new ETag or version id) is the same input, whose unfinished run
// must resume rather than be refused.
func (r *run) auditS3(a map[string]any) {
	if r.s3 == nil || r.s3.input.ETag == "" {
		return
	}
	a["input_s3_etag"] = r.s3.input.ETag
	if v := r.s3.input.VersionID; v != "" {
		a["input_s3_version_id"] = v
	}
}

// s3Client makes the S3 client: the run's credential chain, --s3-region (else
// the run's region), --s3-endpoint-url or AWS_ENDPOINT_URL_S3, path-style
// addressing whenever the endpoint is overridden (emulators answer on one
// host name).
func (r *run) s3Client(ctx context.Context) error {
	region := r.o.S3Region
	if region == "" {
		var err error
		if region, err = r.region(); err != nil {
			return usage(err)
		}
	}
	cfg, err := cognito.LoadAWSConfig(ctx, cognito.Config{Region: region, Profile: r.o.Profile, MaxConns: 8, Log: r.log})
	if err != nil {
		return &batch.FatalError{Code: "ConfigError", Err: err}
	}
	g := r.env.Getenv
	pathStyle := r.o.S3EndpointURL != "" || g("AWS_ENDPOINT_URL_S3") != "" || g("AWS_ENDPOINT_URL") != ""
	api := s3sync.NewClient(cfg, s3sync.ClientOptions{Region: region, EndpointURL: r.o.S3EndpointURL, PathStyle: pathStyle})
	r.s3 = &s3Run{store: s3sync.New(api, s3sync.Options{Log: r.log})}
	return nil
}

// openS3 takes the lease of a checkpoint in S3 (waiting for a dead holder's
// to expire), downloads the report and the checkpoint into a private
// temporary directory and points the run at the local copies.
func (r *run) openS3(ctx context.Context) error {
	_, rep, ckpt, err := r.s3Paths()
	if err != nil || (!rep && !ckpt) {
		return err
	}
	s := r.s3
	if s.dir, err = os.MkdirTemp("", "cogsweep-s3-*"); err != nil {
		return fmt.Errorf("S3 work directory: %w", err)
	}
	var mirrors []*s3sync.Mirror
	open := func(url, sub string) (*s3sync.Mirror, error) {
		u, err := s3sync.ParseURL(url)
		if err != nil {
			return nil, usage(err)
		}
		d := filepath.Join(s.dir, sub)
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
		m, err := s.store.OpenMirror(ctx, u, filepath.Join(d, path.Base(u.Key)), 0)
		if err != nil {
			return nil, err
		}
		mirrors = append(mirrors, m)
		return m, nil
	}
	if ckpt {
		u, err := s3sync.ParseURL(r.checkpointPath)
		if err != nil {
			return usage(fmt.Errorf("--checkpoint: %w", err))
		}
		s.lease, err = s.store.AcquireLease(ctx, u, s3sync.LeaseOptions{TTL: r.o.LeaseTTL, OnWait: func(holder string) {
			r.log.Warn("another cogsweep holds the checkpoint's lease: waiting for it to end or expire", "lease", s3sync.LeaseURL(u).String(), "holder", holder, "ttl", r.o.LeaseTTL)
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
		m, err := open(r.checkpointPath, "checkpoint")
		if err != nil {
			return fmt.Errorf("open checkpoint: %w", err)
		}
		s.ckptURL, r.checkpointPath = r.checkpointPath, m.Local()
	}
	if rep {
		m, err := open(r.reportPath, "report")
		if err != nil {
			return fmt.Errorf("open report: %w", err)
		}
		s.reportURL, r.reportPath = r.reportPath, m.Local()
	}
	s.syncer = s.store.NewSyncer(s.lease, mirrors, s3sync.SyncOptions{})
	return nil
}

// startS3 uploads what the run starts with (archives of a previous run, the
// new checkpoint header) and starts the background uploads. It returns the
// intent log the pipeline uses: with a checkpoint in S3, an intent counts
// only once it is in S3.
func (r *run) startS3(ctx context.Context, journal batch.IntentLog) (batch.IntentLog, error) {
	if r.s3 == nil || r.s3.syncer == nil {
		return journal, nil
	}
	if err := r.s3.syncer.Start(ctx); err != nil {
		return nil, fmt.Errorf("upload to S3: %w", err)
	}
	if r.s3.lease == nil {
		return journal, nil
	}
	return r.s3.syncer.Intents(journal), nil
}

// finishS3 leaves the report and the checkpoint in S3 as one object each
// (no segments) at the end of a run that ended by itself. Afterwards the
// run's paths name the S3 objects again, for the summary.
func (r *run) finishS3(ctx context.Context) error {
	if r.s3 == nil || r.s3.syncer == nil {
		return nil
	}
	if err := r.s3.syncer.Finish(ctx); err != nil {
		return fmt.Errorf("upload the final report and checkpoint to S3: %w", err)
	}
	if r.s3.reportURL != "" {
		r.reportPath = r.s3.reportURL
	}
	if r.s3.ckptURL != "" {
		r.checkpointPath = r.s3.ckptURL
	}
	return nil
}

// closeS3 uploads what a run that returned early leaves (Finish was not
// reached), releases the lease and removes the local copies.
func (r *run) closeS3(ctx context.Context) {
	if r.s3 == nil {
		return
	}
	if r.s3.syncer != nil {
		if err := r.s3.syncer.Close(ctx); err != nil {
			r.log.Warn("could not release the checkpoint lease (it expires by itself)", "err", err)
		}
	} else if r.s3.lease != nil {
		_ = r.s3.lease.Release(context.WithoutCancel(ctx))
	}
	if r.s3.dir != "" {
		os.RemoveAll(r.s3.dir)
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
