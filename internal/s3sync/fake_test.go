package s3sync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// fakeS3 is an in-memory S3 bucket with the semantics this package relies
// on: whole-object puts, If-Match / If-None-Match (412), ranged GETs,
// prefix listing in pages. Hooks inject failures.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]*fakeObject
	calls   map[string]int // by operation
	// before, when it returns an error, fails the operation unapplied.
	before func(op, key string) error
	// lost, when it returns true, applies the operation and then fails it
	// as if the response was lost.
	lost func(op, key string) bool
	// breakAfter, when > 0, cuts GET bodies after that many bytes (once
	// per GET) with a connection error.
	breakAfter int
	pageSize   int
}

type fakeObject struct {
	data []byte
	etag string
	meta map[string]string
}

var _ API = (*fakeS3)(nil)

func newFake() *fakeS3 {
	return &fakeS3{objects: map[string]*fakeObject{}, calls: map[string]int{}, pageSize: 3}
}

func (f *fakeS3) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// keys returns the stored keys with prefix, sorted.
func (f *fakeS3) keys(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func (f *fakeS3) data(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if !ok {
		return nil, false
	}
	return slices.Clone(o.data), true
}

// set writes an object unconditionally, as another program would.
func (f *fakeS3) set(key string, data []byte, meta map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = &fakeObject{data: data, etag: etagOf(data, len(f.calls)), meta: meta}
}

func etagOf(data []byte, salt int) string {
	h := md5.Sum(append(slices.Clone(data), strconv.Itoa(salt)...))
	return `"` + hex.EncodeToString(h[:]) + `"`
}

func apiError(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}
}

var errReset = errors.New("read tcp: connection reset by peer")

func (f *fakeS3) enter(op, key string) error {
	f.mu.Lock()
	f.calls[op]++
	before := f.before
	f.mu.Unlock()
	if before != nil {
		return before(op, key)
	}
	return nil
}

func (f *fakeS3) isLost(op, key string) bool {
	f.mu.Lock()
	lost := f.lost
	f.mu.Unlock()
	return lost != nil && lost(op, key)
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.enter("PutObject", key); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if in.ContentLength != nil && int64(len(data)) != *in.ContentLength {
		return nil, fmt.Errorf("fake: body has %d bytes, ContentLength %d", len(data), *in.ContentLength)
	}
	f.mu.Lock()
	cur, exists := f.objects[key]
	switch {
	case aws.ToString(in.IfNoneMatch) == "*" && exists,
		in.IfMatch != nil && (!exists || cur.etag != *in.IfMatch):
		f.mu.Unlock()
		return nil, apiError(412, "PreconditionFailed")
	}
	o := &fakeObject{data: data, etag: etagOf(data, f.calls["PutObject"]), meta: maps.Clone(in.Metadata)}
	f.objects[key] = o
	f.mu.Unlock()
	if f.isLost("PutObject", key) {
		return nil, errReset
	}
	return &s3.PutObjectOutput{ETag: aws.String(o.etag)}, nil
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.enter("GetObject", key); err != nil {
		return nil, err
	}
	f.mu.Lock()
	o, ok := f.objects[key]
	brk := f.breakAfter
	f.mu.Unlock()
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	if in.IfMatch != nil && *in.IfMatch != o.etag {
		return nil, apiError(412, "PreconditionFailed")
	}
	data := o.data
	if r := aws.ToString(in.Range); r != "" {
		from, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r, "bytes="), "-"))
		if err != nil || from > len(data) {
			return nil, apiError(416, "InvalidRange")
		}
		data = data[from:]
	}
	var body io.Reader = bytes.NewReader(data)
	if brk > 0 && brk < len(data) {
		body = io.MultiReader(bytes.NewReader(data[:brk]), errReader{errReset})
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(body), ETag: aws.String(o.etag),
		ContentLength: aws.Int64(int64(len(data))), Metadata: maps.Clone(o.meta)}, nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func (f *fakeS3) HeadObject(ctx context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.enter("HeadObject", key); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if !ok {
		return nil, &types.NotFound{}
	}
	return &s3.HeadObjectOutput{ETag: aws.String(o.etag), ContentLength: aws.Int64(int64(len(o.data))), Metadata: maps.Clone(o.meta)}, nil
}

func (f *fakeS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	key := aws.ToString(in.Key)
	if err := f.enter("DeleteObject", key); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	if ok && in.IfMatch != nil && *in.IfMatch != o.etag {
		return nil, apiError(412, "PreconditionFailed")
	}
	delete(f.objects, key)
	return &s3.DeleteObjectOutput{}, nil
}

func (f *fakeS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	prefix := aws.ToString(in.Prefix)
	if err := f.enter("ListObjectsV2", prefix); err != nil {
		return nil, err
	}
	ks := f.keys(prefix)
	start := 0
	if in.ContinuationToken != nil {
		start, _ = strconv.Atoi(*in.ContinuationToken)
	}
	end := min(start+f.pageSize, len(ks))
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(end < len(ks))}
	for _, k := range ks[start:end] {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k)})
	}
	if end < len(ks) {
		out.NextContinuationToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

// newTestStore returns a Store on a new fake with quick retries.
func newTestStore(t *testing.T) (*Store, *fakeS3) {
	t.Helper()
	f := newFake()
	return New(f, Options{Attempts: 4}), f
}
