// Package chart draws the few charts cogsweep shows, as inline SVG: line
// charts over time (a run's calls against its limiter, the benchmark's
// rates) and one stacked bar (a run's outcomes). The markup comes from
// html/template, so every text in it is escaped, and it needs no script,
// style sheet or font: a page or a file holding it is readable offline.
//
// It imports no cogsweep package; reportpage and scripts/bench use it.
package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
)

// Palette is the colours series take in turn (colour-blind safe).
var Palette = []string{"#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000"}

// Series is one line. Values are at the chart's X; NaN leaves a gap.
type Series struct {
	Name   string
	Values []float64
	Color  string // default: the palette's next
	Dashed bool
}

// Mark is a vertical line across the plot (a resume).
type Mark struct {
	X     float64
	Label string
}

// Line is a line chart.
type Line struct {
	Title, YLabel string
	Width, Height int       // default 760 x 240
	X             []float64 // shared by every series, increasing
	XLabel        func(x float64) string
	Series        []Series
	Marks         []Mark
}

type svgLine struct {
	W, H, L, T, R, B int
	Title, YLabel    string
	YTicks, XTicks   []tick
	Paths            []path
	Marks            []mark
	Legend           []legend
	Empty            bool
}

type tick struct {
	Pos   float64
	Label string
}

type path struct {
	D, Color, Dash string
}

type mark struct {
	X     float64
	Label string
}

type legend struct {
	X, Y  int
	Name  string
	Color string
}

const (
	marginL, marginR, marginT, marginB = 56, 16, 30, 32
)

var tmpl = template.Must(template.New("line").Parse(`<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" font-family="sans-serif" font-size="11"><title>{{.Title}}</title>
<rect x="0" y="0" width="{{.W}}" height="{{.H}}" fill="#ffffff"/>
<text x="{{.L}}" y="14" font-size="13" font-weight="bold" fill="#222">{{.Title}}</text>
{{range .Legend}}<rect x="{{.X}}" y="{{.Y}}" width="10" height="10" fill="{{.Color}}"/><text x="{{.X}}" dx="14" y="{{.Y}}" dy="9" fill="#222">{{.Name}}</text>
{{end}}<g class="axes" stroke="#999" stroke-width="1">
<line x1="{{.L}}" y1="{{.B}}" x2="{{.R}}" y2="{{.B}}"/><line x1="{{.L}}" y1="{{.T}}" x2="{{.L}}" y2="{{.B}}"/>
</g>
{{$c := .}}{{range .YTicks}}<line x1="{{$c.L}}" y1="{{.Pos}}" x2="{{$c.R}}" y2="{{.Pos}}" stroke="#eee"/><text x="{{$c.L}}" dx="-4" y="{{.Pos}}" dy="4" text-anchor="end" fill="#555">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="{{$c.B}}" dy="14" text-anchor="middle" fill="#555">{{.Label}}</text>
{{end}}<text x="12" y="{{$c.T}}" dy="-4" fill="#555">{{.YLabel}}</text>
{{if .Empty}}<text x="{{.L}}" dx="20" y="{{.T}}" dy="40" fill="#555">nothing recorded</text>
{{end}}{{range .Paths}}<path class="series" d="{{.D}}" fill="none" stroke="{{.Color}}" stroke-width="1.6"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/>
{{end}}{{range .Marks}}<line class="mark" x1="{{.X}}" y1="{{$c.T}}" x2="{{.X}}" y2="{{$c.B}}" stroke="#c00" stroke-dasharray="3 3"/><text x="{{.X}}" dx="3" y="{{$c.T}}" dy="10" fill="#c00">{{.Label}}</text>
{{end}}</svg>`))

// Render writes c as an SVG element.
func (c Line) Render(w io.Writer) error { return tmpl.Execute(w, c.layout()) }

// HTML is c as markup for a page; it was escaped by html/template.
func (c Line) HTML() (template.HTML, error) {
	var b bytes.Buffer
	if err := c.Render(&b); err != nil {
		return "", fmt.Errorf("draw %s: %w", c.Title, err)
	}
	return template.HTML(b.String()), nil // #nosec: produced by html/template above
}

func (c Line) layout() svgLine {
	if c.Width == 0 {
		c.Width = 760
	}
	if c.Height == 0 {
		c.Height = 240
	}
	s := svgLine{W: c.Width, H: c.Height, L: marginL, R: c.Width - marginR, B: c.Height - marginB, Title: c.Title, YLabel: c.YLabel}
	s.Legend = legends(c.Series, s.L, s.R)
	s.T = marginT
	if n := len(s.Legend); n > 0 {
		s.T = s.Legend[n-1].Y + 22
	}
	ymax := 0.0
	for _, se := range c.Series {
		for _, v := range se.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ymax = max(ymax, v)
			}
		}
	}
	if len(c.X) == 0 {
		s.Empty = true
	}
	ymax, step := niceMax(ymax)
	x0, x1 := 0.0, 1.0
	if len(c.X) > 0 {
		x0, x1 = c.X[0], c.X[len(c.X)-1]
	}
	if x1 <= x0 {
		x1 = x0 + 1
	}
	px := func(x float64) float64 { return float64(s.L) + (x-x0)/(x1-x0)*float64(s.R-s.L) }
	py := func(y float64) float64 { return float64(s.B) - y/ymax*float64(s.B-s.T) }
	for y := 0.0; y <= ymax+step/2; y += step {
		s.YTicks = append(s.YTicks, tick{Pos: round1(py(y)), Label: num(y)})
	}
	label := c.XLabel
	if label == nil {
		label = num
	}
	for i := range 6 {
		x := x0 + (x1-x0)*float64(i)/5
		s.XTicks = append(s.XTicks, tick{Pos: round1(px(x)), Label: label(x)})
	}
	for i, se := range c.Series {
		p := path{D: pathData(c.X, se.Values, px, py), Color: s.Legend[i].Color}
		if se.Dashed {
			p.Dash = "6 3"
		}
		s.Paths = append(s.Paths, p)
	}
	for _, m := range c.Marks {
		if m.X >= x0 && m.X <= x1 {
			s.Marks = append(s.Marks, mark{X: round1(px(m.X)), Label: m.Label})
		}
	}
	return s
}

// legends lays the series' names out in rows under the title.
func legends(series []Series, left, right int) []legend {
	out := make([]legend, len(series))
	x, y := left, 22
	for i, se := range series {
		color := se.Color
		if color == "" {
			color = Palette[i%len(Palette)]
		}
		name := se.Name
		if se.Dashed {
			name += " (dashed)"
		}
		w := 24 + 6*len([]rune(name))
		if x > left && x+w > right {
			x, y = left, y+14
		}
		out[i] = legend{X: x, Y: y, Name: name, Color: color}
		x += w
	}
	return out
}

// pathData is an SVG path through the points, broken at NaN.
func pathData(xs, ys []float64, px, py func(float64) float64) string {
	var b strings.Builder
	pen := false
	for i, x := range xs {
		if i >= len(ys) || math.IsNaN(ys[i]) {
			pen = false
			continue
		}
		if pen {
			b.WriteString(" L")
		} else {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("M")
		}
		b.WriteString(num(round1(px(x))))
		b.WriteByte(' ')
		b.WriteString(num(round1(py(ys[i]))))
		pen = true
	}
	return b.String()
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten, and returns it
// with the step of its ticks.
func niceMax(v float64) (float64, float64) {
	if v <= 0 {
		return 1, 0.25
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			top := m * p
			return top, top / map[float64]float64{1: 5, 2: 4, 5: 5, 10: 5}[m]
		}
	}
	return 10 * p, 2 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
