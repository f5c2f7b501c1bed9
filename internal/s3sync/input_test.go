package s3sync

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    URL
		wantErr string
	}{
		{name: "key with folders", in: "s3://hr-drop/daily/leavers.csv", want: URL{Bucket: "hr-drop", Key: "daily/leavers.csv"}},
		{name: "dots in bucket", in: "s3://my.bucket.example/x", want: URL{Bucket: "my.bucket.example", Key: "x"}},
		{name: "not s3", in: "leavers.csv", wantErr: "not an s3://"},
		{name: "no key", in: "s3://bucket", wantErr: "names no object"},
		{name: "folder", in: "s3://bucket/dir/", wantErr: "names no object"},
		{name: "short bucket", in: "s3://ab/k", wantErr: "bucket name"},
		{name: "upper-case bucket", in: "s3://Bucket/k", wantErr: "bucket name"},
		{name: "bucket ends with hyphen", in: "s3://bucket-/k", wantErr: "bucket name"},
		{name: "long bucket", in: "s3://" + strings.Repeat("a", 64) + "/k", wantErr: "bucket name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL(%q) = %v, %v; want error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseURL(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	u := URL{Bucket: "hr-drop", Key: "leavers.csv"}
	content := "username\n" + strings.Repeat("someone\n", 1000)
	tests := []struct {
		name    string
		setup   func(f *fakeS3)
		wantErr error
		gets    int
	}{
		{name: "whole", gets: 1},
		{name: "resumes after a broken connection", setup: func(f *fakeS3) { f.breakAfter = 3000 }, gets: 3},
		{name: "missing", setup: func(f *fakeS3) { f.mu.Lock(); delete(f.objects, u.Key); f.mu.Unlock() }, wantErr: ErrNotFound},
		{name: "changed while read", wantErr: ErrPrecondition, setup: func(f *fakeS3) {
			f.breakAfter = 100
			f.before = func(op, key string) error {
				if op == "GetObject" && f.count("GetObject") == 2 {
					f.set(u.Key, []byte("other\n"), nil)
				}
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newTestStore(t)
			f.set(u.Key, []byte(content), nil)
			if tt.setup != nil {
				tt.setup(f)
			}
			var got strings.Builder
			info, err := s.Fetch(t.Context(), u, &got)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Fetch: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != content {
				t.Fatalf("downloaded %d bytes, want the %d of the object", got.Len(), len(content))
			}
			if info.ETag == "" || info.Size != int64(len(content)) {
				t.Errorf("info %+v", info)
			}
			if n := f.count("GetObject"); n != tt.gets {
				t.Errorf("%d GETs, want %d", n, tt.gets)
			}
		})
	}
}
