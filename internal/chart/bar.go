package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
)

// Part is one segment of a Bar.
type Part struct {
	Name  string
	Value int
	Color string // default: the palette's next
}

// Bar is one horizontal bar split into parts by their share of the total.
type Bar struct {
	Title         string
	Width, Height int // default 760 x 64
	Parts         []Part
}

type svgBar struct {
	W, H, BarH int
	Title      string
	Rects      []rect
}

type rect struct {
	X, W  float64
	Name  string
	Value int
	Color string
}

var barTmpl = template.Must(template.New("bar").Parse(`<svg xmlns="http://www.w3.org/2000/svg" role="img" class="bar" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" font-family="sans-serif" font-size="11"><title>{{.Title}}</title>
{{$c := .}}{{range .Rects}}<rect class="part" x="{{.X}}" y="0" width="{{.W}}" height="{{$c.BarH}}" fill="{{.Color}}"><title>{{.Name}}: {{.Value}}</title></rect>
{{end}}</svg>`))

// Render writes b as an SVG element.
func (b Bar) Render(w io.Writer) error {
	if b.Width == 0 {
		b.Width = 760
	}
	if b.Height == 0 {
		b.Height = 28
	}
	s := svgBar{W: b.Width, H: b.Height, BarH: b.Height, Title: b.Title}
	total := 0
	for _, p := range b.Parts {
		total += max(p.Value, 0)
	}
	x := 0.0
	for i, p := range b.Parts {
		if p.Value <= 0 || total == 0 {
			continue
		}
		w := float64(p.Value) / float64(total) * float64(b.Width)
		color := p.Color
		if color == "" {
			color = Palette[i%len(Palette)]
		}
		s.Rects = append(s.Rects, rect{X: round1(x), W: round1(w), Name: p.Name, Value: p.Value, Color: color})
		x += w
	}
	return barTmpl.Execute(w, s)
}

// HTML is b as markup for a page; it was escaped by html/template.
func (b Bar) HTML() (template.HTML, error) {
	var buf bytes.Buffer
	if err := b.Render(&buf); err != nil {
		return "", fmt.Errorf("draw %s: %w", b.Title, err)
	}
	return template.HTML(buf.String()), nil // #nosec: produced by html/template above
}
