package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// s3Refusing is an S3 endpoint that answers every request with one error.
func s3Refusing(t *testing.T, status int, code string) string {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>test</Message></Error>`))
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestRun_S3UsageErrorsBeforeAnyCall(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	good := writeFile(t, dir, "good.csv", usersCSV(1, 3))
	missing := s3Refusing(t, 404, "NoSuchKey")
	denied := s3Refusing(t, 403, "AccessDenied")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "bad bucket name", args: []string{"--input", "s3://AB/leavers.csv"}, want: "bucket name"},
		{name: "folder, not object", args: []string{"--input", good, "--report", "s3://bucket/reports/"}, want: "--report"},
		{name: "checkpoint in S3, report local", args: []string{"--input", good, "--checkpoint", "s3://bucket/x.checkpoint"}, want: "needs --report in S3"},
		{name: "short lease", args: []string{"--input", good, "--lease-ttl", "100ms"}, want: "--lease-ttl"},
		{name: "missing input object", args: []string{"--input", "s3://bucket/leavers.csv", "--s3-endpoint-url", missing}, want: "not found"},
		{name: "unreadable input object", args: []string{"--input", "s3://bucket/leavers.csv", "--s3-endpoint-url", denied}, want: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"disable", "--user-pool-id", testPool, "--endpoint-url", url}, tt.args...)
			res := cogsweep(t.Context(), t, args...)
			if res.code != ExitUsage {
				t.Fatalf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr %q does not mention %q", res.stderr, tt.want)
			}
		})
	}
	if n := srv.Calls("AdminDisableUser") + srv.Calls("AdminGetUser") + srv.Calls("DescribeUserPool"); n != 0 {
		t.Errorf("%d calls made, want 0", n)
	}
}
