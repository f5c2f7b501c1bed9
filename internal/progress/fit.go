package progress

import (
	"sort"
	"strings"
)

// field is one part of a frame: its forms, longest first, or a bar that
// stretches over the columns left. On a narrow terminal the fields of the
// lowest rank are shortened first, then dropped first.
type field struct {
	rank    int
	forms   []string
	stretch bool
	draw    func(width int) string // for stretch
}

// Bounds of the stretching bar's width, brackets included.
const (
	minBar = 10
	maxBar = 42
)

// fit lays the fields out, in their order, in at most width columns. It
// first shortens the fields of the lowest rank that have a shorter form,
// then drops those of the lowest rank, so a narrow terminal keeps what
// matters and never wraps.
func fit(fs []field, width int) string {
	form := make([]int, len(fs)) // the form in use per field; -1 dropped
	used := func() int {
		n := 0
		for i, f := range fs {
			if form[i] < 0 {
				continue
			}
			if n > 0 {
				n++ // the separating space
			}
			if f.stretch {
				n += minBar
			} else {
				n += len(f.forms[form[i]])
			}
		}
		return n
	}
	for used() > width && shorten(fs, form) {
	}
	for _, i := range byRank(fs) {
		if used() <= width {
			break
		}
		form[i] = -1
	}
	extra := width - used()
	parts := make([]string, 0, len(fs))
	for i, f := range fs {
		switch {
		case form[i] < 0:
		case f.stretch:
			parts = append(parts, f.draw(min(maxBar, minBar+extra)))
		default:
			parts = append(parts, f.forms[form[i]])
		}
	}
	line := strings.Join(parts, " ")
	if len(line) > width { // a lone field wider than the terminal
		line = line[:max(width, 0)]
	}
	return line
}

// shorten moves the field of the lowest rank that has a shorter form to
// it, and reports whether one had.
func shorten(fs []field, form []int) bool {
	for _, i := range byRank(fs) {
		if !fs[i].stretch && form[i] >= 0 && form[i] < len(fs[i].forms)-1 {
			form[i]++
			return true
		}
	}
	return false
}

// byRank is the fields' indexes, lowest rank first.
func byRank(fs []field) []int {
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return fs[idx[a]].rank < fs[idx[b]].rank })
	return idx
}
