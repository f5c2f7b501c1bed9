package main

import (
	"slices"
	"testing"
	"time"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
	"github.com/cogsweep/cogsweep/internal/pace/sim"
)

// Row 2 is a sample of the simulator's matrix, so that each live cell has
// its simulated twin in TestAuto_Matrix.
func TestLiveMatrix_SamplesTheSimulatorsMatrix(t *testing.T) {
	all := sim.Matrix()
	depths, patterns, schedules := map[float64]bool{}, map[sim.Pattern]bool{}, map[sim.Schedule]bool{}
	for _, c := range liveMatrix() {
		if !slices.Contains(all, c.Cell) {
			t.Errorf("%v is not a cell of sim.Matrix", c.Cell)
		}
		depths[c.Depth], patterns[c.Pattern], schedules[c.Schedule] = true, true, true
	}
	if n := len(liveMatrix()); n < 8 {
		t.Errorf("%d cells, want at least 8", n)
	}
	if len(depths) < 3 || len(patterns) < 3 || len(schedules) < len(sim.Schedules) {
		t.Errorf("the cells span %d depths, %d patterns, %d schedules", len(depths), len(patterns), len(schedules))
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		name   string
		phases []sim.Phase
		want   []fakecognito.Step
	}{
		{"steady", []sim.Phase{{Prod: 10}}, []fakecognito.Step{{After: 0, Rate: 10}}},
		{"spike", sim.Spike.Phases(40*time.Second, 25), []fakecognito.Step{
			{After: 0, Rate: 5}, {After: 12 * time.Second, Rate: 20}, {After: 20 * time.Second, Rate: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := steps(tt.phases); !slices.Equal(got, tt.want) {
				t.Errorf("steps = %v, want %v", got, tt.want)
			}
		})
	}
}
