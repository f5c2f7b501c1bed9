package run

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"

	"github.com/cogsweep/cogsweep/internal/progress"
	"github.com/cogsweep/cogsweep/internal/redact"
	"github.com/cogsweep/cogsweep/internal/termlog"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// stderrTerminal is stderr when it is a terminal.
func (r *run) stderrTerminal() (*os.File, bool) {
	f, ok := r.env.Stderr.(*os.File)
	return f, ok && isTerminal(f)
}

// width is the terminal's width now (0 when unknown).
func width(f *os.File) func() int {
	return func() int {
		w, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return w
	}
}

// newBar is the progress bar --progress asks for (auto: when stderr is a
// terminal), or nil.
func (r *run) newBar() *progress.Bar {
	f, tty := r.stderrTerminal()
	if r.o.Progress != "bar" && (r.o.Progress != "auto" || !tty) {
		return nil
	}
	o := progress.Options{}
	if tty {
		o.Width = width(f)
	}
	return progress.New(r.env.Stderr, o)
}

// logger is the run's log: text on a terminal and JSON otherwise (a
// CronJob's log collector), unless --log-format says which. Text on a
// terminal is for a person (console): short lines fitted to its width,
// above the bar.
func (r *run) logger() (log *slog.Logger, console bool) {
	var w io.Writer = r.env.Stderr
	if r.bar != nil {
		w = r.bar.Writer()
	}
	if f, tty := r.stderrTerminal(); tty && (r.o.LogFormat == "auto" || r.o.LogFormat == "text") {
		return consoleLogger(w, width(f)), true
	}
	return newLogger(r.o.LogFormat, w), false
}

// consoleLogger is the log for a person at a terminal, scrubbed like the
// others.
func consoleLogger(w io.Writer, width func() int) *slog.Logger {
	return slog.New(termlog.New(w, termlog.Options{Width: width, ReplaceAttr: scrubAttr, Message: redact.Text}))
}

// newLogger logs in format (auto: JSON unless w is a terminal).
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && isTerminal(f) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, logOptions))
	}
	return slog.New(slog.NewJSONHandler(w, logOptions))
}
