package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/buildinfo"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/report"
)

// opened is what the open phase made: the run's files taken, the
// checkpoint open, and what earlier runs of the same input left.
type opened struct {
	files   Files // the local files the run works on
	src     Source
	journal *checkpoint.Journal
	resume  bool // the checkpoint is this input's: a resume
	// fresh is a new run's checkpoint header, for admit to write once the
	// guards are judged (it holds their verdict); nil on a resume.
	fresh  *checkpoint.Header
	header report.Header  // the report's, written by execute
	state  report.State   // rows settled by earlier runs
	prior  map[int]string // intents of unsettled rows, by row
}

// close closes the checkpoint; the storage releases the rest.
func (f *opened) close() {
	if f != nil && f.journal != nil {
		f.journal.Close()
	}
}

// open takes the report and the checkpoint (storage), decides between a
// fresh run and a resume, commits a --select manifest and loads what
// earlier runs settled.
func (p *plan) open(ctx context.Context, store Storage) (*opened, error) {
	files, err := store.Open(ctx, p.reportPath, p.checkpointPath)
	if err != nil {
		return nil, err
	}
	f := &opened{files: files, src: p.src}
	if err := p.openCheckpoint(f); err != nil {
		return f, err
	}
	if err := p.commitManifest(f); err != nil {
		return f, err
	}
	f.header = report.Header{
		Kind: report.HeaderKind, SchemaVersion: report.SchemaVersion, Tool: "cogsweep", Version: buildinfo.Read(p.env.Version, p.env.Commit).String(),
		Action: string(p.o.Action), Input: p.displayInput(), Fingerprint: p.fingerprint, Rows: p.scan.Rows,
		DryRun: p.o.DryRun, StartedAt: time.Now().UTC(), Audit: p.audit(f.src),
	}
	if p.shard.Sharded() {
		f.header.Shard, f.header.JobFingerprint = p.shard.String(), p.jobFingerprint
	}
	if f.resume {
		if f.state, err = files.load(p.scan.Rows, p.o.RetryFailed); err != nil && !errors.Is(err, os.ErrNotExist) {
			return f, UsageIfSymlink(fmt.Errorf("resume: %w", err))
		}
		p.noteDamage("report", files.Report, f.state.Corrupt, f.state.Torn,
			"removed (a row whose only outcome was there is done again)")
	}
	if f.state.Settled == nil {
		f.state.Settled = report.NewBitset(p.scan.Rows + 1)
		f.state.Have = report.NewBitset(p.scan.Rows + 1)
	}
	f.prior, err = f.journal.Intents(func(row int) bool { return !f.state.Settled.Has(row) })
	if err != nil {
		return f, fmt.Errorf("read checkpoint intents: %w", err)
	}
	return f, nil
}

// openCheckpoint locks the checkpoint and decides between a fresh run and a
// resume. A finished run of another input is archived; an unfinished one is
// refused unless --restart, which archives whatever is there.
func (p *plan) openCheckpoint(f *opened) error {
	var (
		j    *checkpoint.Journal
		err  error
		path = f.files.Checkpoint
	)
	if p.o.Restart {
		var archived []string
		j, archived, err = checkpoint.Restart(path, f.files.held(), p.archiveAlso(f.files)...)
		if len(archived) > 0 {
			p.log.Info("--restart: archived the previous run", "files", archived)
		}
	} else {
		j, err = checkpoint.Open(path)
	}
	if err != nil {
		switch {
		case errors.Is(err, checkpoint.ErrLocked):
			return usage(fmt.Errorf("%w: wait for it to end, or stop it", err))
		case errors.Is(err, checkpoint.ErrCorrupt), errors.Is(err, checkpoint.ErrVersion):
			return usage(fmt.Errorf("%w: add --restart to archive it and start over", err))
		case errors.Is(err, syscall.ELOOP):
			return usage(err)
		}
		return fmt.Errorf("open checkpoint: %w", err)
	}
	st := j.State()
	if st.HasHeader && st.Header.Fingerprint == p.fingerprint {
		p.noteDamage("checkpoint", path, st.Corrupt, st.Torn,
			"skipped (a row whose intent was there reads the user again before its call)")
		f.journal, f.resume = j, true
		return nil
	}
	if st.Unfinished() {
		j.Close()
		return usage(fmt.Errorf("checkpoint %s belongs to an unfinished run of another input or options (%s of %s, %s): run that command again to finish it, or add --restart to archive it and start over",
			path, st.Header.Action, st.Header.Input, lastStatus(st)))
	}
	if st.HasHeader || fileNonEmpty(f.files.Report) {
		archived, err := j.Reset(f.files.held(), p.archiveAlso(f.files)...)
		if err != nil {
			j.Close()
			return fmt.Errorf("archive the previous run: %w", err)
		}
		p.log.Info("archived the previous, finished run: its input or options differ", "files", archived)
	}
	f.journal = j
	f.fresh = &checkpoint.Header{
		Kind: checkpoint.HeaderKind, V: checkpoint.Version,
		Fingerprint: p.fingerprint, Action: string(p.o.Action), Pool: p.o.UserPoolID, Input: p.displayInput(),
		Rows: p.scan.Rows, DryRun: p.o.DryRun, CreatedAt: time.Now().UTC(),
	}
	return nil
}

func lastStatus(st checkpoint.State) string {
	switch {
	case st.Runs == 0:
		return "never started"
	case !st.Ended:
		return "killed"
	}
	return st.LastStatus
}

// noteDamage says once per file what a resume skipped in it: corrupt lines
// are a warning with their numbers (a disk, a person or another program
// wrote there); a torn last line alone is what a kill mid-append leaves, so
// only a debug note.
func (r *run) noteDamage(what, path string, bad fsutil.BadLines, torn bool, effect string) {
	if bad.Count > 0 {
		r.log.Warn(fmt.Sprintf("the %s has corrupt lines; they were %s", what, effect),
			"file", path, "corrupt_lines", bad.Count, "line_numbers", bad.String())
		return
	}
	if torn {
		r.log.Debug(fmt.Sprintf("the %s ended in a torn line (a kill mid-append); it was dropped", what), "file", path)
	}
}

// UsageIfSymlink makes a symlink refused at an open a usage error (exit 2):
// the operator has to remove the link, and running again changes nothing.
func UsageIfSymlink(err error) error {
	if errors.Is(err, syscall.ELOOP) {
		return usage(err)
	}
	return err
}

func fileNonEmpty(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}

// Interface check: the pipeline journals intents in the checkpoint.
var _ batch.IntentLog = (*checkpoint.Journal)(nil)
