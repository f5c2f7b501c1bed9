package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cogsweep/cogsweep/internal/backup"
	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/pacer"
	"github.com/cogsweep/cogsweep/internal/report"
)

// What the pipeline needs beyond the rows: email rows' lookups and their
// resume, the DescribeUserPool cache, and --backup's writer.

var _ batch.Backup = (*backup.Writer)(nil)

// poolCache is the pipeline's DescribeUserPool cache, primed with the pools
// the pre-flight and the guards described.
func (r *plan) poolCache() *batch.PoolCache {
	c := batch.NewPoolCache()
	for id, d := range r.pools {
		if d.exists {
			p := d.pool
			p.ID = id
			c.Put(p)
		}
	}
	return c
}

// attachIdentity gives the job what email rows and --backup need.
func (r *plan) attachIdentity(job *batch.Job, a *admission, f *opened) error {
	r.logAudit(f.header.Audit, a.caller)
	users := a.users
	if users == nil {
		return nil // nothing left to call
	}
	job.Lookups = users
	job.Lists = r.pacer.Limiter(pacer.UserList)
	job.Pools = r.poolCache()
	job.Missing = batch.NewMissingPools()
	for id, d := range r.pools {
		if !d.exists {
			job.Missing.Add(id) // the pre-flight or the guards found it missing
		}
	}
	if a.backup != nil {
		job.Backup = a.backup
	}
	if r.scan.Columns.Email {
		job.Resolved = batch.NewResolvedUsers()
		n, err := seedResolved(job.Resolved, f.files.Report, job.Skip)
		if err != nil {
			return err
		}
		if n > 0 {
			r.log.Info("resume: users that email rows of earlier runs resolved to", "users", n)
		}
	}
	return nil
}

// seedResolved claims, for a resumed run, the users that settled email rows
// of earlier runs resolved to with ListUsers, so a later row naming the same
// user is a duplicate as it would have been without the interruption. Rows
// that were themselves duplicates claimed nothing.
func seedResolved(set *batch.ResolvedUsers, reportPath string, settled func(int) bool) (int, error) {
	marker := []byte(`"resolved_by":"` + batch.ResolvedListUsers + `"`)
	_, err := report.Scan(reportPath, func(l report.Line) error {
		if !bytes.Contains(l.Raw, marker) || l.Outcome == report.Duplicate || l.Outcome == report.NotAttempted ||
			(settled != nil && !settled(l.Row)) {
			return nil
		}
		var rec report.Record
		if err := json.Unmarshal(l.Raw, &rec); err != nil || rec.Username == "" || rec.ResolvedBy != batch.ResolvedListUsers {
			return nil
		}
		set.Claim(rec.UserPoolID, rec.Username, rec.Row)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("resume: read resolved users from the report: %w", err)
	}
	return set.Len(), nil
}

// openBackup opens --backup for a delete (not for a dry run, which deletes
// nothing). The path may not be one of the run's own files.
func (r *plan) openBackup() (*backup.Writer, error) {
	path := r.o.Backup
	if path == "" || r.o.Action != batch.Delete || r.o.DryRun {
		return nil, nil
	}
	for _, own := range []string{r.reportPath, r.checkpointPath, r.input} {
		if own != "" && samePath(path, own) {
			return nil, usage(fmt.Errorf("--backup %s is the run's own input, report or checkpoint: give another file", path))
		}
	}
	w, err := backup.Open(path)
	if err != nil {
		return nil, usage(err)
	}
	r.log.Info("backing up each user before deleting it", "backup", path)
	return w, nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// validateIdentity checks --backup: local files only, for now.
func (o *Options) validateIdentity() []error {
	if strings.Contains(o.Backup, "://") {
		return []error{fmt.Errorf("--backup %s: %w", o.Backup, backup.ErrRemote)}
	}
	return nil
}
