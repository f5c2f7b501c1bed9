package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cogsweep/cogsweep/internal/run"
)

// listFlag is a repeatable flag of comma-separated values.
type listFlag []string

func (s *listFlag) String() string { return strings.Join(*s, ",") }

// Type is the value's name in --help (pflag.Value).
func (s *listFlag) Type() string { return "list" }

func (s *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// floatFlag is a float64 flag that refuses NaN and infinities, whatever the
// flag: no option of cogsweep means anything with them. Its errors name the
// flag, for the COGSWEEP_* variables too.
type floatFlag struct {
	name string
	p    *float64
}

func (f floatFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

// Type is the value's name in --help (pflag.Value).
func (f floatFlag) Type() string { return "number" }

func (f floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("--%s %q: want a finite number", f.name, s)
	}
	*f.p = v
	return nil
}

// Get returns the value (as flag.Getter does; the float-flag test finds them by it).
func (f floatFlag) Get() any { return *f.p }

// rateFlag is --rate: a positive, finite number of requests per second, or
// auto. It is checked as it is set, so that the error of a COGSWEEP_RATE
// names the variable.
type rateFlag struct{ p *string }

func (f rateFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

// Type is the value's name in --help (pflag.Value).
func (f rateFlag) Type() string { return "rate" }

func (f rateFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if err := run.CheckRate(s); err != nil {
		return err
	}
	*f.p = s
	return nil
}

// durationFlag is a time.Duration flag that also takes days: "30d", "1.5d",
// besides Go durations ("720h", "90m").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return run.FormatDuration(*f.d)
}

// Type is the value's name in --help (pflag.Value).
func (f durationFlag) Type() string { return "duration" }

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
