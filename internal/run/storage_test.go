package run

import "testing"

// The storage, not the run, knows which paths are local files: a --select
// manifest goes beside the report only where that is one.
func TestStorage_Local(t *testing.T) {
	local := &localStorage{}
	s3 := &s3Storage{local: local}
	tests := []struct {
		name  string
		store Storage
		path  string
		want  bool
	}{
		{name: "local file", store: local, path: "leavers.disable.report.ndjson", want: true},
		{name: "local URL", store: local, path: "https://example.com/r.ndjson", want: false},
		{name: "s3 storage, local file", store: s3, path: "/tmp/r.ndjson", want: true},
		{name: "s3 storage, s3 object", store: s3, path: "s3://bucket/r.ndjson", want: false},
	}
	for _, tt := range tests {
		if got := tt.store.Local(tt.path); got != tt.want {
			t.Errorf("%s: Local(%q) = %v, want %v", tt.name, tt.path, got, tt.want)
		}
	}
}
