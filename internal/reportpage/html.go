package reportpage

import (
	"bufio"
	"fmt"
	"html/template"
	"io"

	"github.com/cogsweep/cogsweep/internal/chart"
)

// page is what the template reads.
type page struct {
	D        *Data
	Facts    []kv
	Outcomes []outcomeRow
	Bar      template.HTML
	Charts   []template.HTML
	Audit    []kv
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"who": who}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cogsweep {{.D.Header.Action}}: {{.D.Header.Input}}</title>
<style>
body { font-family: sans-serif; margin: 24px auto; max-width: 980px; color: #222; padding: 0 12px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } th { border-bottom: 1px solid #ccc; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; }
.problem { color: #b03000; } .note { color: #805000; } code, .mono { font-family: monospace; word-break: break-all; }
svg.chart, svg.bar { max-width: 100%; height: auto; display: block; margin: 8px 0; }
</style>
</head>
<body>
<h1>cogsweep {{.D.Header.Action}} of {{.D.Header.Input}}</h1>
<section id="summary">
<h2>Summary</h2>
<table>{{range .Facts}}<tr><th scope="row">{{.Key}}</th><td>{{.Value}}</td></tr>{{end}}
<tr><th scope="row">report</th><td class="mono">{{.D.ReportPath}}</td></tr></table>
{{range .D.Notes}}<p class="note">{{.}}</p>{{end}}
</section>
<section id="outcomes">
<h2>Outcomes</h2>
{{.Bar}}
<table id="outcome-table"><tr><th>outcome</th><th>rows</th><th>share</th></tr>
{{range .Outcomes}}<tr{{if .Problem}} class="problem"{{end}}><td><span class="swatch" style="background: {{.Color}}"></span>{{.Outcome}}</td><td class="n">{{.Count}}</td><td class="n">{{.Share}}</td></tr>
{{end}}</table>
</section>
<section id="rate">
<h2>Calls and the limiter</h2>
{{index .Charts 0}}
</section>
<section id="throttles">
<h2>Throttles</h2>
{{index .Charts 1}}
</section>
<section id="latency">
<h2>Latency and calls in flight</h2>
{{index .Charts 2}}
{{index .Charts 3}}
</section>
<section id="problems">
<h2>Rows that need a person ({{.D.ProblemTotal}})</h2>
{{if .D.Problems}}<table id="problem-table"><tr><th>row</th><th>outcome</th><th>user</th><th>pool</th><th>error</th><th>reason</th></tr>
{{range .D.Problems}}<tr><td class="n">{{.Row}}</td><td>{{.Outcome}}</td><td class="mono">{{who .}}</td><td class="mono">{{.UserPoolID}}</td><td>{{.ErrorCode}}{{if .Transient}} (transient){{end}}</td><td>{{.Message}}</td></tr>
{{end}}</table>
{{if gt .D.More 0}}<p id="more">and {{.D.More}} more: the report holds them all.</p>{{end}}
{{else}}<p>None: every row ended well.</p>{{end}}
</section>
<section id="audit">
<h2>Audit record</h2>
<table>{{range .Audit}}<tr><th scope="row">{{.Key}}</th><td class="mono">{{.Value}}</td></tr>{{end}}</table>
</section>
</body>
</html>
`))

// WriteHTML writes d as one self-contained page: inline style and SVG, no
// script, nothing fetched. Every text from the report goes through
// html/template's escaping.
func WriteHTML(w io.Writer, d *Data) error {
	p := page{D: d, Facts: d.facts(), Outcomes: d.outcomes(), Audit: d.audit()}
	parts := make([]chart.Part, len(p.Outcomes))
	for i, o := range p.Outcomes {
		parts[i] = chart.Part{Name: string(o.Outcome), Value: o.Count, Color: o.Color}
	}
	var err error
	if p.Bar, err = (chart.Bar{Title: "Outcomes", Parts: parts}).HTML(); err != nil {
		return err
	}
	if p.Charts, err = d.charts(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := pageTmpl.Execute(bw, p); err != nil {
		return fmt.Errorf("write page: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write page: %w", err)
	}
	return nil
}
