package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSummary_WriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.json")
	s := Summary{Action: "disable", Status: "finished", ExitCode: 3, Rows: 10, Calls: 30, Throttles: 2, Retries: 4,
		LimiterRate: 20, Counts: map[Outcome]int{Disabled: 7, Invalid: 2, NotAttempted: 1},
		StartedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.SetElapsed(1500 * time.Millisecond)
	if s.AchievedRate != 20 || s.ElapsedSeconds != 1.5 {
		t.Fatalf("rate %v elapsed %v", s.AchievedRate, s.ElapsedSeconds)
	}
	if s.Problems() != 3 {
		t.Fatalf("Problems = %d, want 3", s.Problems())
	}
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	counts, _ := got["counts"].(map[string]any)
	if got["status"] != "finished" || got["achieved_rate"] != 20.0 || got["rows"] != 10.0 || counts["invalid"] != 2.0 {
		t.Fatalf("summary JSON = %s", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", fi.Mode().Perm())
	}

	var empty Summary
	empty.SetElapsed(0)
	if err := empty.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	var e map[string]any
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if _, ok := e["counts"].(map[string]any); !ok {
		t.Fatalf("counts must be an object, got %s", data)
	}
}
