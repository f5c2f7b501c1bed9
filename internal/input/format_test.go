package input

import (
	"strings"
	"testing"
)

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		want   Format
		wantOK bool
	}{
		{name: "csv", path: "users.csv", want: CSV, wantOK: true},
		{name: "upper case", path: "/data/USERS.CSV", want: CSV, wantOK: true},
		{name: "ndjson", path: "leavers.ndjson", want: NDJSON, wantOK: true},
		{name: "jsonl", path: "leavers.JsonL", want: NDJSON, wantOK: true},
		{name: "s3 url", path: "s3://bucket/hr/2024-05-01.csv", want: CSV, wantOK: true},
		{name: "gzip is not supported", path: "users.csv.gz", wantOK: false},
		{name: "json is not ndjson", path: "users.json", wantOK: false},
		{name: "no extension", path: "users", wantOK: false},
		{name: "dot in directory only", path: "dir.csv/users", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FormatFromPath(tt.path)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("FormatFromPath(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestOpen_UnknownFormat(t *testing.T) {
	if _, err := Open(strings.NewReader("username\na\n"), Format("xml")); err == nil {
		t.Fatal("Open accepted an unknown format")
	}
}
