package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/retry"
)

func TestExitCode(t *testing.T) {
	reportErr := errors.New("write report: no space left on device")
	tests := []struct {
		name string
		err  error
		want int
		says []string
	}{
		{name: "finished", err: nil, want: ExitOK},
		{name: "usage", err: usage(errors.New("bad flag")), want: ExitUsage},
		{name: "rows invalid or failed", err: &RowProblems{N: 2}, want: ExitRowProblems},
		{name: "guard", err: &GuardError{Guard: "--max-users", Err: errors.New("too many")}, want: ExitAborted},
		{name: "run-wide fault", err: &retry.FatalError{Code: "AccessDeniedException", Err: errors.New("denied")}, want: ExitAborted},
		{name: "interrupted", err: fmt.Errorf("run: %w", batch.ErrInterrupted), want: ExitInterrupted},
		{name: "report unwritable after an interrupt", err: settleFailed(batch.ErrInterrupted, reportErr), want: ExitAborted,
			says: []string{"interrupted", "no space left"}},
		{name: "report unwritable after a fault", err: settleFailed(&retry.FatalError{Code: "ExpiredTokenException", Err: errors.New("expired")}, reportErr),
			want: ExitAborted, says: []string{"ExpiredTokenException", "no space left"}},
		{name: "report unwritable after a finished run", err: settleFailed(nil, reportErr), want: ExitAborted, says: []string{"no space left"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Fatalf("ExitCode = %d, want %d", got, tt.want)
			}
			for _, s := range tt.says {
				if !strings.Contains(tt.err.Error(), s) {
					t.Errorf("message %q does not name %q", tt.err.Error(), s)
				}
			}
		})
	}
}

// settleFailed is run's SettleError, as the settle phase makes it.
func settleFailed(runErr, err error) error { return &SettleError{Run: runErr, Err: err} }
