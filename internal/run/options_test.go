package run

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/report"
)

// The run completes its options (a shard's rates, a rollback's pool and
// region, a --select run's report name) on its own copy: the caller's stay
// as given. Each case stops in the plan, before any call.
func TestRun_LeavesTheCallersOptions(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	source := filepath.Join(dir, "disable.report.ndjson")
	w, err := report.OpenWriter(source, report.Header{Action: string(batch.Disable),
		Audit: map[string]any{"pool": "eu-west-1_Src", "region": "eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn line stops rollback's pre-pass, after the header was read.
	f, err := os.OpenFile(source, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"row\": 1, \"username\": \"a\"}\n{not json}\n")
	f.Close()

	tests := []struct {
		name  string
		shard Shard
		set   func(o *Options)
	}{
		{name: "sharded rates", shard: Shard{Index: 0, Count: 2}, set: func(o *Options) {
			o.UserPoolID, o.Input = "eu-west-1_Abc", filepath.Join(dir, "absent.csv")
		}},
		{name: "rollback's source run", set: func(o *Options) {
			o.Action, o.FromReport = batch.Rollback, source
		}},
		{name: "select's preset", set: func(o *Options) {
			o.Select = `status = "Disabled"`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions(batch.Disable)
			tt.set(o)
			given, sources := *o, len(o.Sources)
			var stderr bytes.Buffer
			env := Env{Stderr: &stderr, Stdout: &stderr, Getenv: func(string) string { return "" }}
			err := Run(t.Context(), o, tt.shard, env)
			if err == nil {
				t.Fatal("the run went on: want it stopped in the plan")
			}
			switch {
			case o.Rate != given.Rate || o.MaxRate != given.MaxRate || o.ReadRate != given.ReadRate || o.ListRate != given.ListRate:
				t.Errorf("rates %s %g %g %g, want the given %s %g %g %g", o.Rate, o.MaxRate, o.ReadRate, o.ListRate,
					given.Rate, given.MaxRate, given.ReadRate, given.ListRate)
			case o.UserPoolID != given.UserPoolID || o.Region != given.Region || o.Input != given.Input:
				t.Errorf("pool %q region %q input %q, want the given %q %q %q", o.UserPoolID, o.Region, o.Input,
					given.UserPoolID, given.Region, given.Input)
			case o.Report != given.Report || o.Format != given.Format:
				t.Errorf("report %q format %q, want the given %q %q", o.Report, o.Format, given.Report, given.Format)
			case len(o.Sources) != sources:
				t.Errorf("sources %v, want the %d given", o.Sources, sources)
			}
		})
	}
}
