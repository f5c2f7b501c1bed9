package s3sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// object is what a read or a HEAD learnt about an object.
type object struct {
	ETag      string
	VersionID string
	Size      int64 // -1 when S3 did not say
	Meta      map[string]string
}

// cond is the precondition of a write: IfMatch an ETag, or IfNoneMatch
// (the object must not exist), or neither.
type cond struct {
	ifMatch     string
	ifNoneMatch bool
}

// head returns the object's metadata, or an error matching ErrNotFound.
func (s *Store) head(ctx context.Context, u URL) (object, error) {
	var out *s3.HeadObjectOutput
	_, err := s.call(ctx, "HeadObject", s.opts.CallTimeout, func(ctx context.Context) error {
		var err error
		out, err = s.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &u.Bucket, Key: &u.Key})
		return err
	})
	if err != nil {
		if isNotFound(err) {
			return object{}, fmt.Errorf("head %s: %w", u, ErrNotFound)
		}
		return object{}, describe("head", u, err)
	}
	return object{ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId),
		Size: aws.ToInt64(out.ContentLength), Meta: out.Metadata}, nil
}

// put writes size bytes of body as the object at u under c and returns the
// new ETag. A conditional write is not idempotent: when an attempt fails
// without an answer and its retry gets 412, the first attempt may have been
// the one that wrote the object. The object then carries this write's token,
// which a HEAD checks; only someone else's write is ErrPrecondition. meta may
// set the token (metaWrite) itself, for a caller that must recognise the
// write later.
func (s *Store) put(ctx context.Context, u URL, body io.ReaderAt, size int64, c cond, meta map[string]string) (string, error) {
	md := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		md[k] = v
	}
	if md[metaWrite] == "" {
		md[metaWrite] = newToken()
	}
	token := md[metaWrite]
	// Big bodies get time to travel at 1 MiB/s at least.
	timeout := s.opts.CallTimeout + time.Duration(size>>20)*time.Second
	var etag string
	maybe, err := s.call(ctx, "PutObject", timeout, func(ctx context.Context) error {
		in := &s3.PutObjectInput{
			Bucket: &u.Bucket, Key: &u.Key, Body: io.NewSectionReader(body, 0, size),
			ContentLength: aws.Int64(size), Metadata: md,
		}
		if c.ifMatch != "" {
			in.IfMatch = aws.String(c.ifMatch)
		}
		if c.ifNoneMatch {
			in.IfNoneMatch = aws.String("*")
		}
		out, err := s.api.PutObject(ctx, in)
		if err == nil {
			etag = aws.ToString(out.ETag)
		}
		return err
	})
	if err == nil {
		return etag, nil
	}
	if isPrecondition(err) {
		if maybe {
			if o, herr := s.head(ctx, u); herr == nil && o.Meta[metaWrite] == token {
				return o.ETag, nil
			}
		}
		return "", fmt.Errorf("put %s: %w", u, ErrPrecondition)
	}
	return "", describe("put", u, err)
}

// del deletes the object at u, if its ETag is ifMatch when that is set. A
// missing object is not an error; someone else's newer object is
// ErrPrecondition.
func (s *Store) del(ctx context.Context, u URL, ifMatch string) error {
	_, err := s.call(ctx, "DeleteObject", s.opts.CallTimeout, func(ctx context.Context) error {
		in := &s3.DeleteObjectInput{Bucket: &u.Bucket, Key: &u.Key}
		if ifMatch != "" {
			in.IfMatch = aws.String(ifMatch)
		}
		_, err := s.api.DeleteObject(ctx, in)
		return err
	})
	switch {
	case err == nil, isNotFound(err):
		return nil
	case isPrecondition(err):
		return fmt.Errorf("delete %s: %w", u, ErrPrecondition)
	}
	return describe("delete", u, err)
}

// list returns the keys under prefix in bucket, in S3's (lexical) order.
func (s *Store) list(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	var token *string
	for {
		var out *s3.ListObjectsV2Output
		_, err := s.call(ctx, "ListObjectsV2", s.opts.CallTimeout, func(ctx context.Context) error {
			var err error
			out, err = s.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, ContinuationToken: token})
			return err
		})
		if err != nil {
			return nil, describe("list", URL{Bucket: bucket, Key: prefix + "*"}, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return keys, nil
		}
		token = out.NextContinuationToken
	}
}

// fetch copies the object at u into w, streaming. A transfer that breaks or
// stalls (no byte for IdleTimeout) goes on where it stopped with a ranged GET
// conditional on the first response's ETag, so w never mixes two versions of
// the object: a change in between is an error. A missing object is an error
// matching ErrNotFound.
func (s *Store) fetch(ctx context.Context, u URL, w io.Writer) (object, error) {
	var (
		obj     object
		got     int64
		started bool
	)
	for attempt := 1; ; attempt++ {
		err := s.fetchOnce(ctx, u, w, &obj, &got, &started)
		switch {
		case err == nil:
			return obj, nil
		case !started && isNotFound(err):
			return object{}, fmt.Errorf("get %s: %w", u, ErrNotFound)
		case started && isPrecondition(err):
			return object{}, fmt.Errorf("get %s: the object changed while it was being read (ETag %s): %w", u, obj.ETag, ErrPrecondition)
		case ctx.Err() != nil:
			return object{}, describe("get", u, ctx.Err())
		}
		var we *writeError
		if errors.As(err, &we) || !(transient(err) || errors.Is(err, context.Canceled)) || attempt >= s.opts.Attempts {
			return object{}, describe("get", u, err)
		}
		d := backoff(attempt)
		s.log.Debug("S3 read failed; resuming", "object", u.String(), "at", got, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return object{}, describe("get", u, ctx.Err())
		case <-t.C:
		}
	}
}

func (s *Store) fetchOnce(ctx context.Context, u URL, w io.Writer, obj *object, got *int64, started *bool) error {
	in := &s3.GetObjectInput{Bucket: &u.Bucket, Key: &u.Key}
	if *started {
		if obj.Size >= 0 && *got >= obj.Size {
			return nil
		}
		in.IfMatch = aws.String(obj.ETag)
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", *got))
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle := s.opts.IdleTimeout
	watchdog := time.AfterFunc(idle, cancel)
	defer watchdog.Stop()
	out, err := s.api.GetObject(actx, in)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	if !*started {
		*started = true
		*obj = object{ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId), Size: -1, Meta: out.Metadata}
		if out.ContentLength != nil {
			obj.Size = *out.ContentLength
		}
	}
	buf := make([]byte, 256<<10)
	for {
		watchdog.Reset(idle)
		n, rerr := out.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return &writeError{werr}
			}
			*got += int64(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if obj.Size >= 0 && *got != obj.Size {
		return fmt.Errorf("read %d of %d bytes: %w", *got, obj.Size, io.ErrUnexpectedEOF)
	}
	return nil
}

// writeError is a failure of the local side of a transfer: not retried.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write local copy: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }
