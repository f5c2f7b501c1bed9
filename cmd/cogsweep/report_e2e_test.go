package main_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/cogsweep/cogsweep/internal/fakecognito"
)

// chromium finds headless Chromium. It may be missing only outside CI:
// .ci/run sets COGSWEEP_REQUIRE_CHROMIUM=1 and installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("COGSWEEP_REQUIRE_CHROMIUM") != "" || os.Getenv("CI") != "" {
		t.Fatal("headless Chromium is required here (apt-get install -y chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install -y chromium); CI runs this test")
	return ""
}

func headless(t *testing.T, bin, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "chromium-profile")}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestE2E_ReportPage_InChromium renders the page of a real run (interrupted
// by SIGTERM, then resumed, two rows invalid) in headless Chromium: the
// rendered DOM holds the four charts with drawn series and the resume
// mark, and the outcome and needs-a-person tables; the screenshot under
// $TMPDIR is not blank and shows the charts' colours.
func TestE2E_ReportPage_InChromium(t *testing.T) {
	browser := chromium(t)
	const n = 180
	srv, url := startFake(t, fakecognito.Options{Seed: 3, Latency: 3 * time.Millisecond}, n)
	dir := t.TempDir()
	var in strings.Builder
	in.WriteString("username\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&in, "%s\n", name(i))
	}
	in.WriteString("bad name\nalso bad name\n")
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(in.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"disable", "--user-pool-id", pool, "--input", "users.csv", "--rate", "60", "--read-rate", "100", "--concurrency", "4"}
	cmd := command(t, dir, url, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Executed("AdminDisableUser") >= 60 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(cmd.Wait()); code != 75 {
		t.Fatalf("exit %d after SIGTERM, want 75\n%s", code, out.String())
	}
	if o, err := command(t, dir, url, args...).CombinedOutput(); exitCode(err) != 3 {
		t.Fatalf("resume: exit %d, want 3 (two invalid rows)\n%s", exitCode(err), o)
	}
	page := filepath.Join(dir, "page.html")
	rep := exec.Command(binary, "report", "users.disable.report.ndjson", "--html", page)
	rep.Dir = dir
	if o, err := rep.CombinedOutput(); err != nil {
		t.Fatalf("report --html: %v\n%s", err, o)
	}
	if fi, err := os.Stat(page); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("page: %v, mode %v (want 0600: it names users)", err, fi.Mode().Perm())
	}

	t.Run("rendered DOM", func(t *testing.T) {
		dom := headless(t, browser, dir, "--dump-dom", "file://"+page)
		doc, err := html.Parse(bytes.NewReader(dom))
		if err != nil {
			t.Fatal(err)
		}
		charts := elements(doc, func(n *html.Node) bool { return n.Data == "svg" && attrOf(n, "class") == "chart" })
		if len(charts) != 4 {
			t.Fatalf("%d charts in the rendered page, want 4", len(charts))
		}
		for i, c := range charts {
			drawn := elements(c, func(n *html.Node) bool {
				return n.Data == "path" && strings.Count(attrOf(n, "d"), " L") >= 1
			})
			if len(drawn) == 0 {
				t.Errorf("chart %d has no drawn series", i+1)
			}
			if len(elements(c, func(n *html.Node) bool { return n.Data == "line" && attrOf(n, "class") == "mark" })) != 1 {
				t.Errorf("chart %d has no resume mark", i+1)
			}
		}
		outcomes := rowsOf(doc, "outcome-table")
		if got := outcomes["disabled"]; len(got) < 2 || got[1] != fmt.Sprint(n) {
			t.Errorf("outcome table: disabled %v, want %d (table %v)", got, n, outcomes)
		}
		if got := outcomes["invalid"]; len(got) < 2 || got[1] != "2" {
			t.Errorf("outcome table: invalid %v, want 2", got)
		}
		problems := rowsOf(doc, "problem-table")
		if len(problems) != 3 || problems[fmt.Sprint(n+1)] == nil || problems[fmt.Sprint(n+2)][1] != "invalid" {
			t.Errorf("needs-a-person table %v, want rows %d and %d invalid", problems, n+1, n+2)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(os.TempDir(), "cogsweep-report-e2e.png")
		os.Remove(shot)
		headless(t, browser, dir, "--window-size=1000,1400", "--screenshot="+shot, "file://"+page)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		ink, blue := 0, 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				r, g, bl = r>>8, g>>8, bl>>8
				if r < 240 || g < 240 || bl < 240 {
					ink++
				}
				// The first series' colour, #0072b2, anti-aliased.
				if r < 60 && g > 80 && g < 150 && bl > 140 {
					blue++
				}
			}
		}
		t.Logf("screenshot %s: %dx%d, %d non-white pixels, %d of the series' blue", shot, b.Dx(), b.Dy(), ink, blue)
		if ink < b.Dx()*b.Dy()/100 {
			t.Errorf("screenshot nearly blank: %d non-white pixels of %d", ink, b.Dx()*b.Dy())
		}
		if blue < 200 {
			t.Errorf("screenshot shows no chart line (%d blue pixels)", blue)
		}
	})
}

func elements(n *html.Node, ok func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && ok(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, elements(c, ok)...)
	}
	return out
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return strings.TrimSpace(b.String())
}

// rowsOf maps the table with id's rows by their first cell to their cells.
func rowsOf(doc *html.Node, id string) map[string][]string {
	tables := elements(doc, func(n *html.Node) bool { return attrOf(n, "id") == id })
	out := map[string][]string{}
	if len(tables) == 0 {
		return out
	}
	for _, tr := range elements(tables[0], func(n *html.Node) bool { return n.Data == "tr" }) {
		var cells []string
		for _, c := range elements(tr, func(n *html.Node) bool { return n.Data == "td" || n.Data == "th" }) {
			cells = append(cells, textOf(c))
		}
		if len(cells) > 0 {
			out[cells[0]] = cells
		}
	}
	return out
}
