package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriter_ScrubsServiceFields checks the writer's own guard, for records
// built outside the batch: a JWT shape never reaches the file, and a code or
// request id that is not shaped like one is replaced or left out.
func TestWriter_ScrubsServiceFields(t *testing.T) {
	const jwt = "eyJraWQiOiJmYWtlIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.cdwYrgBJj9DdgqeaYKBuMnHcGK4ASY_Q3YKnmmCgbjI"
	tests := []struct {
		name           string
		in             Record
		code, id, text string
	}{
		{name: "clean fields stay", in: Record{ErrorCode: "TooManyRequestsException", RequestID: "6fdff32c-bedf-475f-a47b-4d776db0369c", Message: "Rate exceeded"},
			code: "TooManyRequestsException", id: "6fdff32c-bedf-475f-a47b-4d776db0369c", text: "Rate exceeded"},
		{name: "a token as the code", in: Record{ErrorCode: jwt}, code: "MalformedErrorCode"},
		{name: "a token as the request id", in: Record{ErrorCode: "X", RequestID: jwt}, code: "X"},
		{name: "a token in the message", in: Record{Message: "bad " + jwt + " here"}, text: "bad [token] here"},
		{name: "the payload's head in the message", in: Record{Message: "bad " + jwt[20:60]}, text: "bad [token]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.ndjson")
			w, err := OpenWriter(path, testHeader())
			if err != nil {
				t.Fatal(err)
			}
			in := tc.in
			in.Row, in.Outcome, in.Action, in.At = 1, Failed, "self-delete", time.Now()
			if err := w.Write(&in); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, path)
			var got Record
			if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
				t.Fatal(err)
			}
			if got.ErrorCode != tc.code || got.RequestID != tc.id || got.Message != tc.text {
				t.Errorf("code %q id %q message %q, want %q %q %q", got.ErrorCode, got.RequestID, got.Message, tc.code, tc.id, tc.text)
			}
			if strings.Contains(lines[1], "eyJ") {
				t.Errorf("a JWT shape is written: %s", lines[1])
			}
			if in.ErrorCode != tc.in.ErrorCode || in.Message != tc.in.Message || in.RequestID != tc.in.RequestID {
				t.Error("Write changed the caller's record")
			}
		})
	}
}

func TestScrubbed_CleanRecordDoesNotAllocate(t *testing.T) {
	r := Record{Row: 1, Outcome: Failed, ErrorCode: "NotAuthorizedException", RequestID: "6fdff32c-bedf-475f-a47b-4d776db0369c",
		Message: "permanent NotAuthorizedException: operation error Cognito Identity Provider: DeleteUser, api error NotAuthorizedException: Access Token has been revoked"}
	if n := testing.AllocsPerRun(100, func() { _ = scrubbed(&r) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
