package fsutil

import "testing"

func TestBadLines(t *testing.T) {
	tests := []struct {
		name  string
		lines []int
		want  string
	}{
		{name: "none", want: ""},
		{name: "a few", lines: []int{4, 9, 12}, want: "4, 9, 12"},
		{name: "just the listed", lines: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, want: "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"},
		{name: "more than listed", lines: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20, 30}, want: "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 3 more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b BadLines
			for _, n := range tc.lines {
				b.Add(n)
			}
			if got := b.String(); got != tc.want || b.Count != len(tc.lines) || len(b.First) > MaxListedLines {
				t.Fatalf("String() = %q, Count %d, First %v; want %q", got, b.Count, b.First, tc.want)
			}
		})
	}
}

func TestTornByCrash(t *testing.T) {
	tests := []struct {
		name string
		tail string
		want bool
	}{
		{name: "start of a record", tail: `{"k":"i","r":12,"s":"ena`, want: true},
		{name: "just the brace", tail: `{`, want: true},
		{name: "zeros", tail: "\x00\x00\x00\x00"},
		{name: "record then zeros", tail: `{"row":3,"outcome":"dis` + "\x00\x00"},
		{name: "garbage", tail: "hello"},
		{name: "nothing", tail: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TornByCrash([]byte(tc.tail)); got != tc.want {
				t.Fatalf("TornByCrash(%q) = %v, want %v", tc.tail, got, tc.want)
			}
		})
	}
}
