// Package termlog is the log for a person at a terminal: a slog handler
// that writes each record as a short line (no time; the level only when
// it is above INFO; the message, then the attributes as key=value),
// word-wrapped to the terminal's width, so that the terminal never wraps a
// line on its own, in the middle of a word or under the progress bar. The
// machine-readable form of the same records is --log-format json's.
//
// It imports nothing of cogsweep's; internal/run logs through it.
package termlog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// Options are a Handler's settings.
type Options struct {
	// Width returns the terminal's width in columns now (nil, or a result
	// of 0 or less: 80).
	Width func() int
	// Level is the lowest level written (nil: INFO).
	Level slog.Leveler
	// ReplaceAttr rewrites each attribute (the scrubber), as slog's.
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr
	// Message rewrites the message (the scrubber; nil: as it is).
	Message func(string) string
}

// Handler is the slog.Handler. Each record is one write, so a writer that
// keeps a bar below the log (progress.Bar.Writer) redraws it once.
type Handler struct {
	o     Options
	w     io.Writer
	mu    *sync.Mutex   // shared with the handlers WithAttrs and WithGroup make
	buf   *bytes.Buffer // the attributes of the record being written
	attrs slog.Handler  // slog's text handler into buf, writing the attributes only
}

var _ slog.Handler = (*Handler)(nil)

// New returns a Handler writing to w.
func New(w io.Writer, o Options) *Handler {
	buf := new(bytes.Buffer)
	only := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
			return slog.Attr{} // written by Handle, or not at all
		}
		if o.ReplaceAttr != nil {
			return o.ReplaceAttr(groups, a)
		}
		return a
	}
	return &Handler{o: o, w: w, mu: new(sync.Mutex), buf: buf,
		attrs: slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug - 8, ReplaceAttr: only})}
}

// Enabled reports whether level is written.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	min := slog.LevelInfo
	if h.o.Level != nil {
		min = h.o.Level.Level()
	}
	return level >= min
}

// WithAttrs returns a Handler that adds as to each record.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithAttrs(as)
	return &c
}

// WithGroup returns a Handler that puts the record's attributes in group
// name.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.attrs = h.attrs.WithGroup(name)
	return &c
}

// Handle writes r as one wrapped line.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.attrs.Handle(ctx, r); err != nil {
		return err
	}
	msg := r.Message
	if h.o.Message != nil {
		msg = h.o.Message(msg)
	}
	switch {
	case r.Level >= slog.LevelError:
		msg = "error: " + msg
	case r.Level >= slog.LevelWarn:
		msg = "warning: " + msg
	}
	if kv := strings.TrimSpace(h.buf.String()); kv != "" {
		msg += " " + kv
	}
	width := 80
	if h.o.Width != nil {
		if w := h.o.Width(); w > 0 {
			width = w
		}
	}
	_, err := io.WriteString(h.w, Wrap(msg, width-1))
	return err
}

// Wrap breaks s into lines of at most width columns at spaces (a word
// longer than that is cut), the lines after the first indented by two
// spaces, each ending in a newline.
func Wrap(s string, width int) string {
	const indent = "  "
	width = max(width, len(indent)+8)
	var b strings.Builder
	line := ""
	flush := func() {
		b.WriteString(line)
		b.WriteByte('\n')
		line = indent
	}
	for _, word := range strings.Fields(s) {
		for {
			room := width - len(line)
			if line != "" && line != indent {
				room-- // the space before the word
			}
			if len(word) <= room {
				if line != "" && line != indent {
					line += " "
				}
				line += word
				break
			}
			if line != "" && line != indent {
				flush() // the word goes on the next line
				continue
			}
			line += word[:room] // a word wider than a whole line
			word = word[room:]
			flush()
		}
	}
	if line != indent {
		flush()
	}
	return b.String()
}
