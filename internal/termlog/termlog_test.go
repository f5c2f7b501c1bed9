package termlog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandler_ShortWrappedLines(t *testing.T) {
	tests := []struct {
		name  string
		width int
		log   func(*slog.Logger)
		want  string
	}{
		{name: "info: the message and the attributes, no time nor level", width: 80,
			log:  func(l *slog.Logger) { l.Info("protect file read", "file", "staff.csv", "users", 3) },
			want: "protect file read file=staff.csv users=3\n"},
		{name: "warning and error say so", width: 80,
			log: func(l *slog.Logger) {
				l.Warn("could not upload", "err", errors.New("timeout"))
				l.Error("lost the lease")
			},
			want: "warning: could not upload err=timeout\nerror: lost the lease\n"},
		{name: "wrapped at spaces to the width, indented", width: 30,
			log:  func(l *slog.Logger) { l.Info("the account's figures are partly unknown; planning with the defaults") },
			want: "the account's figures are\n  partly unknown; planning\n  with the defaults\n"},
		{name: "a word wider than the line is cut", width: 20,
			log:  func(l *slog.Logger) { l.Info("arn", "caller", "arn:aws:iam::123456789012:user/cogsweep") },
			want: "arn\n  caller=arn:aws:iam\n  ::123456789012:use\n  r/cogsweep\n"},
		{name: "groups and attributes from With", width: 80,
			log:  func(l *slog.Logger) { l.With("shard", "1/3").WithGroup("s3").Info("uploaded", "parts", 2) },
			want: "uploaded shard=1/3 s3.parts=2\n"},
		{name: "debug is below the level", width: 80,
			log:  func(l *slog.Logger) { l.Debug("hidden") },
			want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.log(slog.New(New(&out, Options{Width: func() int { return tt.width + 1 }})))
			if out.String() != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", out.String(), tt.want)
			}
			for _, l := range strings.Split(out.String(), "\n") {
				if len(l) > tt.width {
					t.Errorf("line of %d columns, wider than %d: %q", len(l), tt.width, l)
				}
			}
		})
	}
}

func TestHandler_Scrubs(t *testing.T) {
	var out bytes.Buffer
	scrub := func(s string) string { return strings.ReplaceAll(s, "SECRET", "[redacted]") }
	h := New(&out, Options{Message: scrub, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(scrub(a.Value.String()))
		}
		return a
	}})
	slog.New(h).Info("echo SECRET", "code", "SECRET")
	if got := out.String(); strings.Contains(got, "SECRET") {
		t.Fatalf("scrubbed line %q still holds the secret", got)
	}
}
