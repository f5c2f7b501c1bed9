package run

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SafetyOptions are the flags of README "Safety": protected users,
// two-phase offboarding and selection by query.
type SafetyOptions struct {
	// ProtectGroups are groups whose members are never touched.
	ProtectGroups []string
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

// FormatDuration writes a duration as its flag takes it: whole days as
// "30d", others as Go does ("36h0m0s"), and 0 as "".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	const day = 24 * time.Hour
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}
