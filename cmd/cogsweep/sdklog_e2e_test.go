package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// The SDK's own log lines ("falling back to IMDSv1", from the EC2 metadata
// client of the credential chain) go through the run's logger: with
// --log-format json, stderr holds JSON lines and the final "cogsweep: ..."
// message only, never the SDK's plain text.
func TestE2E_SDKLogsAreJSON(t *testing.T) {
	_, url := startFake(t, fakecognito.Options{}, 3)
	// An EC2 metadata service without IMDSv2 tokens: the SDK warns, falls
	// back to IMDSv1, and finds no role either.
	var imdsCalls atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		imdsCalls.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(imds.Close)
	dir := t.TempDir()
	writeUsers(t, dir, 3)
	cmd := command(t, dir, url, "disable", "--user-pool-id", pool, "--input", "users.csv", "--log-format", "json")
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", // no credentials but the instance's
		"AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT="+imds.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	all := stderr.String()
	if imdsCalls.Load() == 0 {
		t.Fatalf("the credential chain never asked the metadata service (exit %d)\n%s", exitCode(err), stderr.String())
	}
	sawSDK := false
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "cogsweep: ") {
			continue // the exit message
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
			continue
		}
		if msg, _ := rec["msg"].(string); strings.Contains(msg, "IMDSv1") {
			sawSDK = true
			if rec["level"] != "WARN" {
				t.Errorf("the SDK's warning is logged at %v, want WARN: %q", rec["level"], line)
			}
		}
	}
	if !sawSDK {
		t.Errorf("the SDK's IMDSv1 warning is not among the JSON log lines:\n%s", all)
	}
}
