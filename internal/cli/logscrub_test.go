package cli

import (
	"bytes"
	"errors"
	"testing"
)

func TestFinish_ScrubsTheErrorPrinted(t *testing.T) {
	const jwt = "eyJraWQiOiJmYWtlIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.cdwYrgBJj9DdgqeaYKBuMnHcGK4ASY_Q3YKnmmCgbjI"
	var b bytes.Buffer
	if code := finish(Env{Stderr: &b}, errors.New("pre-flight: "+jwt)); code != ExitAborted {
		t.Errorf("exit %d", code)
	}
	if got := b.String(); got != "cogsweep: pre-flight: [token]\n" {
		t.Errorf("stderr %q", got)
	}
}
