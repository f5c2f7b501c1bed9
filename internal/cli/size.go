package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a number of bytes: 4294967296, 4GiB, 512MiB, 64KiB (or the
// one-letter K, M, G, T). Units are binary; a byte count must be positive.
type sizeFlag struct {
	name string
	p    *int64
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10},
	{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0},
}

func (f sizeFlag) String() string {
	if f.p == nil {
		return ""
	}
	for _, u := range sizeUnits[:4] {
		if v := *f.p; v > 0 && v%(1<<u.shift) == 0 {
			return strconv.FormatInt(v>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*f.p, 10)
}

// Type is the value's name in --help (pflag.Value).
func (f sizeFlag) Type() string { return "size" }

func (f sizeFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	var shift uint
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, shift = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.shift
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)>>shift {
		return fmt.Errorf("--%s %q: want a positive size in bytes (e.g. 4GiB, 512MiB)", f.name, s)
	}
	*f.p = v << shift
	return nil
}

// Get returns the value (as flag.Getter does; the float-flag test finds them by it).
func (f sizeFlag) Get() any { return *f.p }
