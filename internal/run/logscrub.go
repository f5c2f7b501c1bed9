package run

import (
	"log/slog"

	"github.com/cogsweep/cogsweep/internal/redact"
)

// logOptions make every log line pass the JWT-shape scrubber: the message,
// strings and errors (a run-wide fault quoting a service's answer). A row's
// own token, in part too, was removed where the row is known (batch).
var logOptions = &slog.HandlerOptions{ReplaceAttr: scrubAttr}

func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; {
	case v.Kind() == slog.KindString:
		if s := redact.Text(v.String()); s != v.String() {
			a.Value = slog.StringValue(s)
		}
	case v.Kind() == slog.KindAny:
		if err, ok := v.Any().(error); ok {
			if s := redact.Text(err.Error()); s != err.Error() {
				a.Value = slog.StringValue(s)
			}
		}
	}
	return a
}
