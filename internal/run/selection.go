package run

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/checkpoint"
	"github.com/cogsweep/cogsweep/internal/fsutil"
	"github.com/cogsweep/cogsweep/internal/input"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/retry"
)

// selection is a --select run's manifest: the users the query chose, as an
// NDJSON input ({"username":..,"user_pool_id":..} a line) beside the
// report, from which the run proceeds as from a file. A new query is
// written to a temporary file first and renamed over the manifest only once
// the run holds the checkpoint's lock, so a live run of the same command
// never has its input replaced under it.
type selection struct {
	manifest string
	temp     string // a new query not yet renamed over manifest
	reused   bool
}

// ManifestRow is one line of a manifest.
type ManifestRow struct {
	Username   string `json:"username"`
	UserPoolID string `json:"user_pool_id"`
}

// listPageSize is ListUsers' largest page.
const listPageSize = 60

// selectName names a selection's files: the same query gives the same
// names, so the same command finds its run again.
func (o *Options) selectName() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "pool=%s\nselect=%q\ncreated_before=%d\nmodified_before=%d\n",
		o.UserPoolID, o.Select, int64(o.CreatedBefore), int64(o.ModifiedBefore)))
	return "select-" + hex.EncodeToString(sum[:6])
}

// manifestPathFor puts a selection's manifest beside its report.
func manifestPathFor(report string) string {
	return strings.TrimSuffix(report, ReportSuffix) + ".manifest.ndjson"
}

// presetSelection completes a --select run's options before the query: it
// names the report after the query (select-<hash>.<action>.report.ndjson)
// unless --report names it, and sets the manifest's format. The query
// itself waits for the run's paths (selectUsers). It returns a copy: o is
// left as it was.
func presetSelection(o *Options) *Options {
	c := o.clone()
	if c.Report == "" {
		c.Report = c.selectName() + "." + string(c.Action) + ReportSuffix
	}
	c.Format = string(input.NDJSON)
	return c
}

// selectUsers makes a --select run's input. An unfinished run of the same
// command (killed, interrupted, refused) reuses its manifest and does not
// query again: its rows must stay the rows its checkpoint and report count.
// Otherwise, after a finished run too, it queries anew.
func (r *plan) selectUsers(ctx context.Context, store Storage) error {
	o := r.o
	if o.Select == "" {
		return nil
	}
	if !store.Local(r.reportPath) {
		return usage(errors.New("--select keeps its manifest beside the report, which must then be a local file"))
	}
	s := &selection{manifest: manifestPathFor(r.reportPath)}
	r.sel = s
	if !o.Restart && fileExists(s.manifest) {
		if st, err := checkpoint.Load(r.checkpointPath); err == nil && st.Unfinished() {
			s.reused = true
		}
	}
	path := s.manifest
	if s.reused {
		r.log.Info("resuming an unfinished run: its manifest is reused, not queried again", "manifest", s.manifest)
	} else {
		c, _, err := r.dial(ctx)
		if err != nil {
			return err
		}
		tmp, n, err := r.querySelection(ctx, c, s.manifest)
		if err != nil {
			return err
		}
		s.temp, path = tmp, tmp
		r.log.Info("users selected", "select", o.Select, "created_before", FormatDuration(o.CreatedBefore),
			"modified_before", FormatDuration(o.ModifiedBefore), "users", n, "manifest", s.manifest)
	}
	r.input = path
	if err := r.scanInput(ctx, store); err != nil {
		return err
	}
	return r.checkColumns()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// querySelection pages through ListUsers with the filter at --list-rate,
// keeps the users --created-before / --modified-before allow, and writes
// them, streaming, to a temporary file beside manifest, fsynced. It returns
// the file and the number of users.
func (r *run) querySelection(ctx context.Context, c Backend, manifest string) (path string, n int, err error) {
	o := r.o
	f, err := os.CreateTemp(filepath.Dir(manifest), "."+filepath.Base(manifest)+".tmp-*")
	if err != nil {
		return "", 0, fmt.Errorf("write manifest: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	now := r.now()
	var createdBy, modifiedBy time.Time
	if o.CreatedBefore > 0 {
		createdBy = now.Add(-o.CreatedBefore)
	}
	if o.ModifiedBefore > 0 {
		modifiedBy = now.Add(-o.ModifiedBefore)
	}
	// old reports whether t is at or before cut; a missing date never is.
	old := func(t *time.Time, cut time.Time) bool {
		return cut.IsZero() || (t != nil && !t.IsZero() && !t.After(cut))
	}
	w := bufio.NewWriterSize(f, 64<<10)
	token, pages := "", 0
	for {
		var page []types.UserType
		var next string
		res := r.pacer.Call(ctx, pacer.UserList, func(ctx context.Context) error {
			var err error
			page, next, err = c.ListUsersPage(ctx, o.UserPoolID, o.Select, token, listPageSize)
			return err
		})
		if res.Err != nil {
			return "", 0, r.selectError(ctx, res)
		}
		pages++
		for _, u := range page {
			name := aws.ToString(u.Username)
			if name == "" || !old(u.UserCreateDate, createdBy) || !old(u.UserLastModifiedDate, modifiedBy) {
				continue
			}
			line, err := json.Marshal(ManifestRow{Username: name, UserPoolID: o.UserPoolID})
			if err != nil {
				return "", 0, fmt.Errorf("write manifest: %w", err)
			}
			w.Write(line)
			if err := w.WriteByte('\n'); err != nil {
				return "", 0, fmt.Errorf("write manifest: %w", err)
			}
			n++
		}
		if pages%500 == 0 {
			r.log.Info("selecting users", "pages", pages, "users", n)
		}
		if next == "" {
			break
		}
		token = next
	}
	if err := w.Flush(); err != nil {
		return "", 0, fmt.Errorf("write manifest: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("write manifest: fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", 0, fmt.Errorf("write manifest: %w", err)
	}
	return f.Name(), n, nil
}

func (r *run) selectError(ctx context.Context, res retry.Result) error {
	o := r.o
	if ctx.Err() != nil {
		return batch.ErrInterrupted
	}
	switch res.Code {
	case "InvalidParameterException":
		return usage(fmt.Errorf("--select %q: Cognito refused the filter (the ListUsers syntax is attribute = \"value\", or ^= for a prefix): %v", o.Select, res.Err))
	case "ResourceNotFoundException":
		return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("user pool %s does not exist (check --user-pool-id and --region)", o.UserPoolID)}
	case "AccessDeniedException":
		return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("the credentials may not call cognito-idp:ListUsers on %s: --select needs it", o.UserPoolID)}
	}
	return &retry.FatalError{Code: res.Code, Err: fmt.Errorf("--select: ListUsers %s: %w", o.UserPoolID, res.Err)}
}

// commitManifest renames a new query over the manifest, now that the run
// holds the checkpoint, and makes the rename durable.
func (r *plan) commitManifest(f *opened) error {
	s := r.sel
	if s == nil || s.temp == "" {
		return nil
	}
	if err := os.Rename(s.temp, s.manifest); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	s.temp = ""
	if err := fsutil.SyncDir(filepath.Dir(s.manifest)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	f.src, r.input = Source{Path: s.manifest}, s.manifest
	return nil
}

// cleanup removes a query that was never committed (the run stopped before
// it held the checkpoint).
func (s *selection) cleanup() {
	if s != nil && s.temp != "" {
		os.Remove(s.temp)
	}
}

// archiveAlso is what goes to the archive with a finished run's checkpoint:
// its report (unless held: heldFiles) and, when a new query replaces it,
// its manifest.
func (r *plan) archiveAlso(files Files) []string {
	var also []string
	if files.Lock == nil {
		also = append(also, files.Report)
	}
	if s := r.sel; s != nil && s.temp != "" {
		also = append(also, s.manifest)
	}
	if files.Timeline != "" {
		also = append(also, files.Timeline)
	}
	return also
}
