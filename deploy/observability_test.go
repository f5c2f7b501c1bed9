package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/cogsweep/cogsweep/internal/metrics"
)

// prometheusRule is the part of prometheus-operator's PrometheusRule that
// deploy/prometheus-rule.yaml uses; strict decoding refuses anything else
// (a misspelt field is dropped silently by the operator).
type prometheusRule struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

func loadRule(t *testing.T) *prometheusRule {
	t.Helper()
	data, err := os.ReadFile("prometheus-rule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	obj, err := decodeStrict(data)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := obj.(*prometheusRule)
	if !ok || len(r.Spec.Groups) == 0 {
		t.Fatalf("prometheus-rule.yaml: %T with no groups", obj)
	}
	return r
}

// promFunctions are the PromQL functions the files may call.
var promFunctions = []string{"time", "rate", "irate", "increase", "sum", "max", "min", "avg", "count", "abs",
	"clamp_min", "clamp_max", "max_over_time", "min_over_time", "changes", "timestamp", "absent", "label_values", "vector"}

// promRefs returns the metrics and labels a PromQL expression (or a
// Grafana label_values query) names. It is a lexer, not a parser: enough
// to find every name, which is all the check needs.
func promRefs(expr string) (names, labels []string, err error) {
	if m := regexp.MustCompile(`^label_values\((.*),\s*([A-Za-z_]\w*)\)$`).FindStringSubmatch(strings.TrimSpace(expr)); m != nil {
		expr, labels = m[1], []string{m[2]}
	}
	ident := regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*`)
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'':
			j := strings.IndexByte(expr[i+1:], c)
			if j < 0 {
				return nil, nil, fmt.Errorf("unterminated string in %q", expr)
			}
			i += j + 2
		case c == '[':
			j := strings.IndexByte(expr[i:], ']')
			if j < 0 {
				return nil, nil, fmt.Errorf("unterminated range in %q", expr)
			}
			i += j + 1
		case c == '{':
			j := strings.IndexByte(expr[i:], '}')
			if j < 0 {
				return nil, nil, fmt.Errorf("unterminated selector in %q", expr)
			}
			for _, m := range regexp.MustCompile(`([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("[^"]*"|'[^']*')`).FindAllStringSubmatch(expr[i+1:i+j], -1) {
				labels = append(labels, m[1])
			}
			i += j + 1
		case c == '$':
			i++
			for i < len(expr) && (expr[i] == '_' || ident.MatchString(expr[i:i+1])) {
				i++
			}
		case ident.MatchString(expr[i:]) && (i == 0 || !isNumChar(expr[i-1])):
			id := ident.FindString(expr[i:])
			i += len(id)
			rest := strings.TrimLeft(expr[i:], " ")
			switch {
			case slices.Contains([]string{"by", "on", "without", "ignoring", "group_left", "group_right"}, id):
				if strings.HasPrefix(rest, "(") {
					end := strings.IndexByte(rest, ')')
					for _, l := range strings.Split(rest[1:end], ",") {
						if l = strings.TrimSpace(l); l != "" {
							labels = append(labels, l)
						}
					}
					i += len(expr[i:]) - len(rest) + end + 1
				}
			case slices.Contains([]string{"and", "or", "unless", "bool", "offset"}, id):
			case slices.Contains(promFunctions, id):
				// a function, or an aggregation before its by (...)
			case strings.HasPrefix(rest, "("):
				return nil, nil, fmt.Errorf("unknown function %s in %q", id, expr)
			default:
				names = append(names, id)
			}
		default:
			i++
		}
	}
	return names, labels, nil
}

func isNumChar(c byte) bool { return c >= '0' && c <= '9' || c == '.' }

// checkExpr says what in expr is not something cogsweep pushes.
func checkExpr(expr string) error {
	names, labels, err := promRefs(expr)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("%q names no metric", expr)
	}
	for _, n := range names {
		if !slices.Contains(metrics.Names(), n) {
			return fmt.Errorf("%q: %s is not a metric cogsweep pushes (internal/metrics.Names)", expr, n)
		}
	}
	for _, l := range labels {
		if !slices.Contains(metrics.Labels(), l) {
			return fmt.Errorf("%q: label %s is not on cogsweep's series (internal/metrics.Labels)", expr, l)
		}
	}
	return nil
}

func TestCheckExpr_Catches(t *testing.T) {
	tests := []struct {
		name, expr string
		ok         bool
	}{
		{name: "the README's", expr: `rate(cogsweep_throttles_total[10m]) > 0.5`, ok: true},
		{name: "grafana variables", expr: `sum by (action) (rate(cogsweep_calls_total{job=~"$job"}[$__rate_interval]))`, ok: true},
		{name: "label_values", expr: `label_values(cogsweep_running{job=~"$job"}, action)`, ok: true},
		{name: "misspelt metric", expr: `cogsweep_rowz > 0`},
		{name: "another exporter's metric", expr: `up{job="pushgateway"} == 0`},
		{name: "a label cogsweep does not set", expr: `cogsweep_rows{outcom="failed"} > 0`},
		{name: "a label in by", expr: `sum by (pod) (cogsweep_rows)`},
		{name: "only a number", expr: `1 > 0`},
		{name: "unknown function", expr: `frobnicate(cogsweep_rows)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkExpr(tc.expr); (err == nil) != tc.ok {
				t.Fatalf("checkExpr(%q) = %v, want ok %v", tc.expr, err, tc.ok)
			}
		})
	}
}

func TestPrometheusRule_NamesOnlyPushedMetrics(t *testing.T) {
	r := loadRule(t)
	n := 0
	for _, g := range r.Spec.Groups {
		for _, rule := range g.Rules {
			n++
			if rule.Alert == "" {
				t.Errorf("a rule without an alert name: %q", rule.Expr)
			}
			if err := checkExpr(rule.Expr); err != nil {
				t.Errorf("%s: %v", rule.Alert, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
}

// TestPrometheusRule_IsTheREADMEs: the file holds the alerts README
// "Metrics" shows, with the same expressions.
func TestPrometheusRule_IsTheREADMEs(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n# Prometheus alerting rules\n(.*?)```").FindSubmatch(data)
	if block == nil {
		t.Fatal("README has no '# Prometheus alerting rules' block")
	}
	var shown []struct {
		Alert string `json:"alert"`
		Expr  string `json:"expr"`
	}
	if err := yaml.Unmarshal(block[1], &shown); err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, g := range loadRule(t).Spec.Groups {
		for _, r := range g.Rules {
			have[r.Alert] = r.Expr
		}
	}
	if len(shown) != len(have) {
		t.Errorf("README shows %d alerts, the file has %d", len(shown), len(have))
	}
	for _, s := range shown {
		if have[s.Alert] != s.Expr {
			t.Errorf("%s: README %q, file %q", s.Alert, s.Expr, have[s.Alert])
		}
	}
}

// dashboard is the part of a Grafana dashboard the check reads.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboard_NamesOnlyPushedMetrics(t *testing.T) {
	data, err := os.ReadFile("grafana/cogsweep.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("dashboard uid %q title %q, %d panels", d.UID, d.Title, len(d.Panels))
	}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if err := checkExpr(tg.Expr); err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
			}
			names, _, _ := promRefs(tg.Expr)
			for _, n := range names {
				used[n] = true
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)
		expr, _ := q["query"].(string)
		if err := checkExpr(expr); err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
	}
	// The four: progress, rate, throttles, last success.
	for _, n := range []string{metrics.NameRows, metrics.NameInputRows, metrics.NameCalls, metrics.NameLimit, metrics.NameThrottles, metrics.NameLastSuccess} {
		if !used[n] {
			t.Errorf("no panel shows %s", n)
		}
	}
}
