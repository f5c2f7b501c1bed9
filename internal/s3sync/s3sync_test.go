package s3sync

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cogsweep/cogsweep/internal/retry"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name                         string
		err                          error
		transient, precond, notFound bool
	}{
		{name: "SlowDown", err: apiError(503, "SlowDown"), transient: true},
		{name: "internal error", err: apiError(500, "InternalError"), transient: true},
		{name: "conditional write conflict", err: apiError(409, "ConditionalRequestConflict"), transient: true},
		{name: "connection reset", err: fmt.Errorf("put: %w", errReset), transient: true},
		{name: "precondition failed", err: apiError(412, "PreconditionFailed"), precond: true},
		{name: "access denied", err: apiError(403, "AccessDenied")},
		{name: "no such bucket", err: apiError(404, "NoSuchBucket")},
		{name: "no such key", err: &types.NoSuchKey{}, notFound: true},
		{name: "HEAD not found", err: &types.NotFound{}, notFound: true},
		{name: "bare 404 (HEAD has no body)", err: apiError(404, ""), notFound: true},
		{name: "our cancellation", err: fmt.Errorf("get: %w", context.Canceled)},
		{name: "no credentials", err: &retry.CredentialsError{Err: errReset}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.transient {
				t.Errorf("transient = %v, want %v", got, tt.transient)
			}
			if got := isPrecondition(tt.err); got != tt.precond {
				t.Errorf("isPrecondition = %v, want %v", got, tt.precond)
			}
			if got := isNotFound(tt.err); got != tt.notFound {
				t.Errorf("isNotFound = %v, want %v", got, tt.notFound)
			}
		})
	}
}
