package chart

import (
	"math"
	"strings"
	"testing"
)

func TestLine_Layout(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		values []float64
		pens   int    // pieces of line
		top    string // the highest y tick
	}{
		{name: "a gap breaks the line", values: []float64{1, 2, nan, 4}, pens: 2, top: "5"},
		{name: "all zero", values: []float64{0, 0, 0, 0}, pens: 1, top: "1"},
		{name: "nothing", values: nil, pens: 0, top: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Line{Title: "t", Width: 750, Height: 250, X: []float64{0, 1, 2, 3}, Series: []Series{{Name: "s", Values: tc.values}}}
			l := c.layout()
			if got := strings.Count(l.Paths[0].D, "M"); got != tc.pens {
				t.Errorf("path %q: %d pieces, want %d", l.Paths[0].D, got, tc.pens)
			}
			if got := l.YTicks[len(l.YTicks)-1].Label; got != tc.top {
				t.Errorf("top tick %s, want %s", got, tc.top)
			}
		})
	}
}

func TestLine_EscapesNames(t *testing.T) {
	h, err := Line{Title: `<b>"x"</b>`, X: []float64{0, 1}, Series: []Series{{Name: "<script>", Values: []float64{1, 2}}}}.HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h), "<script>") || strings.Contains(string(h), "<b>") {
		t.Fatalf("unescaped: %s", h)
	}
}
