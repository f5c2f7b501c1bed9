package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/batch"
)

// SafetyOptions are the flags of README "Safety": protected users,
// two-phase offboarding and selection by query.
type SafetyOptions struct {
	// ProtectGroups are groups whose members are never touched.
	ProtectGroups stringList
	// ProtectFile lists usernames that are never touched.
	ProtectFile string
	// OnlyDisabledFor (delete) deletes only users still disabled and last
	// modified at least this long ago.
	OnlyDisabledFor time.Duration
	// Select is a ListUsers filter that chooses the users instead of
	// --input; CreatedBefore and ModifiedBefore narrow it client-side.
	Select         string
	CreatedBefore  time.Duration
	ModifiedBefore time.Duration
	// ListRate paces ListUsers and ListUsersInGroup (the UserList quota).
	ListRate float64
}

// defaultListRate is the default UserList quota (30 requests/s).
const defaultListRate = 30

// maxSelectLen bounds --select: ListUsers filters are short.
const maxSelectLen = 256

// bindSafety registers the safety flags that apply to the action.
func (o *Options) bindSafety(fs *flag.FlagSet) {
	a := o.Action
	if !a.AdminCapable() || a == batch.Rollback {
		return
	}
	fs.Var(&o.ProtectGroups, "protect-group", "never touch members of this `group` (repeatable): their rows end protected; members are listed once per pool (ListUsersInGroup)")
	fs.StringVar(&o.ProtectFile, "protect-file", o.ProtectFile, "never touch the usernames in this `file`: one per line, or a CSV/NDJSON (by extension) with a username column")
	fs.StringVar(&o.Select, "select", o.Select, "choose the users with a ListUsers `filter` instead of --input, e.g. 'status = \"Disabled\"'; written to a manifest beside the report first")
	fs.Var(durationFlag{&o.CreatedBefore}, "created-before", "with --select: only users created at least this `duration` ago (30d, 36h)")
	fs.Var(durationFlag{&o.ModifiedBefore}, "modified-before", "with --select: only users last modified at least this `duration` ago (30d, 36h)")
	fs.Var(floatFlag{"list-rate", &o.ListRate}, "list-rate", "ListUsers and ListUsersInGroup requests per second, a `rate` (UserList quota, shared with production)")
	if a == batch.Delete {
		fs.Var(durationFlag{&o.OnlyDisabledFor}, "only-disabled-for", "delete only users still disabled and last modified at least this `duration` ago (30d, 720h): others end skipped_not_disabled or skipped_too_recent, and a later run tries them again")
	}
}

// validateSafety checks the safety flags.
func (o *Options) validateSafety() []error {
	var errs []error
	if o.Select != "" {
		switch {
		case o.Input != "":
			errs = append(errs, errors.New("give --input or --select, not both"))
		case o.UserPoolID == "":
			errs = append(errs, errors.New("--select needs --user-pool-id: the pool to query"))
		case strings.TrimSpace(o.Select) == "":
			errs = append(errs, errors.New(`--select is empty: give a ListUsers filter such as 'status = "Disabled"'`))
		case len(o.Select) > maxSelectLen:
			errs = append(errs, fmt.Errorf("--select is longer than %d characters", maxSelectLen))
		}
	} else if o.CreatedBefore != 0 || o.ModifiedBefore != 0 {
		errs = append(errs, errors.New("--created-before and --modified-before narrow a --select: add --select"))
	}
	if !positive(o.ListRate) {
		errs = append(errs, fmt.Errorf("--list-rate %g: want a positive number of requests per second", o.ListRate))
	}
	return errs
}

// durationFlag is a time.Duration flag that also takes days: "30d", "1.5d",
// besides Go durations ("720h", "90m").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	const day = 24 * time.Hour
	if *f.d%day == 0 {
		return strconv.FormatInt(int64(*f.d/day), 10) + "d"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseDuration parses a non-negative duration: a Go duration, or a number
// of days with a d suffix.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q: want a duration such as 30d, 36h or 90m", s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseFloat(n, 64)
		// 290 years is about the most a time.Duration holds.
		if err != nil || v < 0 || math.IsNaN(v) || v > 100000 {
			return 0, bad
		}
		return time.Duration(v * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}
