package cli

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/run"
)

// floatFlags are every flag of the actions that takes a number with a
// fraction. NaN compares false with everything, so a check such as
// "rate <= 0" lets it through and pacing is off; infinities are no rate
// either. TestOptions_EveryFloatFlagIsCovered keeps the list complete.
var floatFlags = []struct {
	flag   string
	action batch.Action
}{
	{"rate", batch.Delete}, // a string: a number or auto
	{"max-rate", batch.Delete},
	{"read-rate", batch.Delete},
	{"list-rate", batch.Delete},
	{"max-fraction", batch.Delete},
	{"create-rate", batch.Restore},
}

func TestOptions_FloatFlagsRejectNaNAndInfinities(t *testing.T) {
	awsEnv(t)
	srv, url := fake(t, fakecognito.Options{}, 3)
	dir := t.TempDir()
	t.Chdir(dir)
	in := writeFile(t, dir, "in.csv", usersCSV(1, 3))
	for _, ff := range floatFlags {
		for _, v := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "1e999"} {
			for _, from := range []string{"flag", "env"} {
				t.Run(ff.flag+"="+v+"/"+from, func(t *testing.T) {
					args := []string{string(ff.action), "--user-pool-id", testPool,
						"--input", in, "--endpoint-url", url, "--progress", "off"}
					if ff.action.Destructive() {
						args = append(args, "--confirm-pool-id", testPool)
					}
					if ff.action == batch.Restore {
						args = append(args, "--from-backup", in)
					}
					if from == "flag" {
						args = append(args, "--"+ff.flag, v)
					} else {
						t.Setenv(envName(ff.flag), v)
					}
					before := srv.Stats().Calls
					res := cogsweep(t.Context(), t, args...)
					if res.code != ExitUsage {
						t.Fatalf("exit %d, want %d\n%s", res.code, ExitUsage, res.stderr)
					}
					if !strings.Contains(res.stderr, "--"+ff.flag) {
						t.Errorf("the message does not name --%s:\n%s", ff.flag, res.stderr)
					}
					if from == "env" && !strings.Contains(res.stderr, envName(ff.flag)) {
						t.Errorf("the message does not name %s:\n%s", envName(ff.flag), res.stderr)
					}
					if after := srv.Stats().Calls; len(after) != len(before) {
						t.Errorf("calls made before the usage error: %v", after)
					}
				})
			}
		}
	}
}

// Every flag whose value is a float64 (and --rate, a number in a string)
// is in floatFlags: a new one cannot skip the NaN test.
func TestOptions_EveryFloatFlagIsCovered(t *testing.T) {
	var covered []string
	for _, ff := range floatFlags {
		covered = append(covered, ff.flag)
	}
	for _, a := range batch.Actions {
		o := run.NewOptions(a)
		fs := pflag.NewFlagSet(string(a), pflag.ContinueOnError)
		bind(o, fs)
		fs.VisitAll(func(f *pflag.Flag) {
			// pflag's own float values have no Get: their type tells.
			isFloat := strings.HasPrefix(f.Value.Type(), "float")
			if g, ok := f.Value.(flag.Getter); ok {
				_, getsFloat := g.Get().(float64)
				isFloat = isFloat || getsFloat
			}
			if isFloat && !slices.Contains(covered, f.Name) {
				t.Errorf("%s --%s takes a float and is not in floatFlags", a, f.Name)
			}
		})
	}
}
