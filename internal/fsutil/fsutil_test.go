package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	for _, content := range []string{"first\n", "second, longer\n"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("content = %q, %v; want %q", got, err, content)
		}
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such"), nil, 0o600); err == nil {
		t.Error("want an error for a missing directory")
	}
}

func TestTrimTornTail(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{name: "empty", content: "", want: ""},
		{name: "whole lines", content: "a\nb\n", want: "a\nb\n"},
		{name: "torn tail", content: "a\nb\nc", want: "a\nb\n"},
		{name: "only torn", content: "abc", want: ""},
		{name: "torn tail longer than a read", content: "a\n" + strings.Repeat("x", 10000), want: "a\n"},
		{name: "line longer than a read", content: strings.Repeat("y", 10000) + "\n", want: strings.Repeat("y", 10000) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			size, dropped, err := TrimTornTail(f)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want || size != int64(len(tt.want)) || dropped != int64(len(tt.content)-len(tt.want)) {
				t.Fatalf("got %q (size %d, dropped %d), want %q", got, size, dropped, tt.want)
			}
		})
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("z", 200<<10) // longer than the initial buffer
	tests := []struct {
		name    string
		content string
		lines   []string
		torn    string
	}{
		{name: "empty", content: ""},
		{name: "lines", content: "a\n\nbc\n", lines: []string{"a", "", "bc"}},
		{name: "torn", content: "a\nbc", lines: []string{"a"}, torn: "bc"},
		{name: "long line", content: "a\n" + long + "\nb\n", lines: []string{"a", long, "b"}},
		{name: "long torn", content: "a\n" + long, lines: []string{"a"}, torn: long},
	}
	for _, tt := range tests {
		for _, wrap := range []struct {
			name string
			r    func(io.Reader) io.Reader
		}{{"plain", func(r io.Reader) io.Reader { return r }}, {"onebyte", iotest.OneByteReader}, {"dataerr", iotest.DataErrReader}} {
			t.Run(tt.name+"/"+wrap.name, func(t *testing.T) {
				lr := NewLineReader(wrap.r(strings.NewReader(tt.content)), 100)
				var lines []string
				torn := ""
				for {
					line, off, complete, err := lr.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if tt.content[off-100:off-100+int64(len(line))] != string(line) {
						t.Fatalf("offset %d wrong", off)
					}
					if !complete {
						torn = string(line)
						continue
					}
					lines = append(lines, string(line))
				}
				if strings.Join(lines, "|") != strings.Join(tt.lines, "|") || len(lines) != len(tt.lines) || torn != tt.torn {
					t.Fatalf("lines %d %q torn %d", len(lines), trunc(lines), len(torn))
				}
			})
		}
	}
}

func trunc(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x[:min(len(x), 10)]
	}
	return out
}

func TestLineReader_ReadError(t *testing.T) {
	boom := errors.New("boom")
	lr := NewLineReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)), 0)
	if line, _, ok, err := lr.Next(); err != nil || !ok || string(line) != "a" {
		t.Fatalf("first line: %q %v %v", line, ok, err)
	}
	// A partial line before a read error is not a torn tail: the error wins.
	if _, _, _, err := lr.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}
