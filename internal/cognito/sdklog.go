package cognito

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// sdkLogger routes the SDK's own log lines (such as the EC2 metadata
// client's "falling back to IMDSv1") into the run's slog logger. The SDK's
// default writes plain text to stderr, which lands in the middle of JSON
// logs a collector parses. No request or response body is ever logged
// (ClientLogMode stays off), so no secret reaches it.
type sdkLogger struct{ log *slog.Logger }

var _ logging.Logger = sdkLogger{}

// Logf implements logging.Logger.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelInfo
	switch c {
	case logging.Warn:
		level = slog.LevelWarn
	case logging.Debug:
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}
