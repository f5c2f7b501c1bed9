package run

import (
	"fmt"
	"testing"

	"github.com/cogsweep/cogsweep/internal/batch"
	"github.com/cogsweep/cogsweep/internal/input"
)

func TestShard_OwnsPartitionsRows(t *testing.T) {
	rows := []input.Row{
		{N: 1, Username: "alice"}, {N: 2, Sub: "0000-sub"}, {N: 3, Email: "bob@example.com"},
		{N: 4, AccessToken: "eyJ.token.one"}, {N: 5, Err: "bare quote"}, {N: 6, Err: "bare quote"},
		{N: 7, Username: "alice"}, // a repeat: must land with row 1
	}
	for i := 8; i < 400; i++ {
		rows = append(rows, input.Row{N: i, Username: fmt.Sprintf("u%d", i)})
	}
	const n = 5
	per := make([]int, n)
	for _, r := range rows {
		owners := 0
		for i := range n {
			if (Shard{i, n}).Owns(r) {
				owners++
				per[i]++
			}
		}
		if owners != 1 {
			t.Fatalf("row %d owned by %d shards", r.N, owners)
		}
	}
	for i := range n {
		if (Shard{i, n}).Owns(rows[0]) != (Shard{i, n}).Owns(rows[6]) {
			t.Fatal("two rows of one user are in different shards: duplicate detection would miss them")
		}
		if per[i] < len(rows)/n/2 {
			t.Errorf("shard %d owns %d of %d rows: the hash is not spreading them", i, per[i], len(rows))
		}
	}
	// The token row is sharded by its token's fingerprint, never the token.
	want := input.ShardOf("token:"+input.TokenFingerprint("eyJ.token.one"), n)
	if !(Shard{want, n}).Owns(rows[3]) {
		t.Error("a token row is not sharded by its token's fingerprint")
	}
}

func TestShard_PathsRatesFingerprint(t *testing.T) {
	r := &run{o: &Options{DryRun: false}, shard: Shard{2, 8}}
	tests := []struct {
		name, got, want string
	}{
		{"default report", DefaultReportPath("hr/leavers.csv", "disable", r.shard.Tag(), false), "leavers.disable.shard-2-of-8.report.ndjson"},
		{"default plan", DefaultReportPath("hr/leavers.csv", "disable", r.shard.Tag(), true), "leavers.disable.shard-2-of-8.plan.report.ndjson"},
		{"explicit report", r.tagged("out/purge.report.ndjson"), "out/purge.shard-2-of-8.report.ndjson"},
		{"explicit checkpoint", r.tagged("out/purge.ckpt"), "out/purge.shard-2-of-8.ckpt"},
		{"s3 report", r.tagged("s3://bucket/p/purge.report.ndjson"), "s3://bucket/p/purge.shard-2-of-8.report.ndjson"},
		{"unsharded keeps its name", (&run{o: &Options{}}).tagged("purge.report.ndjson"), "purge.report.ndjson"},
	}
	r.o.DryRun = true
	tests = append(tests, struct{ name, got, want string }{"explicit plan", r.tagged("purge.report.ndjson"), "purge.shard-2-of-8.plan.report.ndjson"})
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
		}
	}

	o := NewOptions(batch.Disable)
	o.Rate, o.MaxRate, o.ReadRate, o.ListRate = "20", 25, 30, 32
	o.perShard(8)
	if o.Rate != "2.5" || o.MaxRate != 25.0/8 || o.ReadRate != 30.0/8 || o.ListRate != 4 {
		t.Errorf("per shard of 8: rate %s max %g read %g list %g", o.Rate, o.MaxRate, o.ReadRate, o.ListRate)
	}
	o.Select = `status = "Disabled"`
	if err := o.Shardable(Shard{1, 2}); err == nil {
		t.Error("--select was accepted with --shard")
	}
	if err := o.Shardable(Shard{}); err != nil {
		t.Errorf("--select unsharded: %v", err)
	}
	o.Rate = "auto"
	o.perShard(2)
	if o.Rate != "auto" {
		t.Errorf("auto became %s", o.Rate)
	}

	job := "f00d"
	fps := map[string]bool{Shard{}.Fingerprint(job): true}
	for i := range 3 {
		fps[Shard{i, 3}.Fingerprint(job)] = true
	}
	fps[Shard{0, 2}.Fingerprint(job)] = true
	if len(fps) != 5 || (Shard{}).Fingerprint(job) != job {
		t.Errorf("fingerprints of the shards must differ from each other and an unsharded run keeps the job's: %v", fps)
	}
}
