package run

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/report"
)

// BenchmarkResumeStartup measures what a resumed run does before its first
// call, on a 1,000,000-row input half done: the pre-pass over the input,
// opening and checking the checkpoint, loading the report (compaction check
// and settled rows), reading the intents, and skipping the settled rows up
// to the first unsettled one.
//
//	go test -run '^$' -bench ResumeStartup -benchtime 3x ./internal/cli
func BenchmarkResumeStartup(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	in := filepath.Join(dir, "big.csv")
	f, err := os.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "username,email")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(w, "user-%07d,user-%07d@example.com\n", i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()

	o := NewOptions(batch.Disable)
	o.Input, o.UserPoolID = in, "us-east-1_BENCH0001"
	o.Report = filepath.Join(dir, "big.disable.report.ndjson")
	store := &localStorage{log: slog.New(slog.DiscardHandler)}
	files := Files{Report: o.Report, Checkpoint: CheckpointPathFor(o.Report)}
	newRun := func() *plan {
		r := &plan{run: &run{o: o, env: Env{Getenv: func(string) string { return "" }}, log: slog.New(slog.DiscardHandler)}}
		r.reportPath, r.checkpointPath, r.region = files.Report, files.Checkpoint, "us-east-1"
		return r
	}

	// The half-done state: a checkpoint with an intent per done row, and a
	// report with one line per done row.
	r := newRun()
	if err := r.scanInput(b.Context(), store); err != nil {
		b.Fatal(err)
	}
	r.fingerprint = r.computeFingerprint()
	op := &opened{files: files}
	if err := r.openCheckpoint(op); err != nil {
		b.Fatal(err)
	}
	j := op.journal
	// A fresh run's header is admit's to write (it holds the guards').
	if err := j.WriteHeader(*op.fresh); err != nil {
		b.Fatal(err)
	}
	if _, err := j.StartRun(); err != nil {
		b.Fatal(err)
	}
	rw, err := report.OpenWriter(r.reportPath, report.Header{Kind: report.HeaderKind, SchemaVersion: 1, Action: "disable", Rows: rows})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := 1; i <= rows/2; i++ {
		if err := j.Intent(i, checkpoint.ReadEnabled); err != nil {
			b.Fatal(err)
		}
		rec := report.Record{Row: i, Outcome: report.Disabled, Action: "disable", Username: fmt.Sprintf("user-%07d", i),
			UserPoolID: o.UserPoolID, Attempts: 2, DurationMS: 40, RequestID: "0f0e0d0c-0b0a-4908-8706-050403020100", At: now}
		if err := rw.Write(&rec); err != nil {
			b.Fatal(err)
		}
	}
	rw.Close()
	j.Close()

	b.ResetTimer()
	for b.Loop() {
		r := newRun()
		if err := r.scanInput(b.Context(), store); err != nil {
			b.Fatal(err)
		}
		r.fingerprint = r.computeFingerprint()
		f := &opened{files: files}
		err := r.openCheckpoint(f)
		if err != nil || !f.resume {
			b.Fatalf("resume %v: %v", f.resume, err)
		}
		j := f.journal
		st, err := report.Load(r.reportPath, r.scan.Rows, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Intents(func(row int) bool { return !st.Settled.Has(row) }); err != nil {
			b.Fatal(err)
		}
		in, closeIn, err := r.openReader(r.src)
		if err != nil {
			b.Fatal(err)
		}
		for {
			row, err := in.Next()
			if errors.Is(err, io.EOF) {
				b.Fatal("no unsettled row")
			}
			if err != nil {
				b.Fatal(err)
			}
			if !st.Settled.Has(row.N) {
				break
			}
		}
		closeIn()
		j.Close()
	}
}
