// Command sizes prints the measures issue #20 judges the layout by: non-test
// Go files over 300 and 400 lines, functions over 80 lines, and the types with
// the most methods. It reads the source only (go/parser), so it needs no build.
//
//	go run ./scripts/sizes [-funcs 80] [-types 10] [dir]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type sized struct {
	name  string
	lines int
}

type tally struct {
	files   []sized
	funcs   []sized
	methods map[string]int
}

func main() {
	funcLimit := flag.Int("funcs", 80, "list functions longer than this many lines")
	topTypes := flag.Int("types", 10, "list this many types with the most methods")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	t, err := measure(root, *funcLimit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sizes:", err)
		os.Exit(1)
	}
	print(t, *topTypes)
}

func measure(root string, funcLimit int) (tally, error) {
	t := tally{methods: map[string]int{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n != "." && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		t.files = append(t.files, sized{path, fset.File(f.Pos()).LineCount()})
		dir := filepath.Dir(path)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			name := fn.Name.Name
			if recv := receiver(fn); recv != "" {
				t.methods[dir+"."+recv]++
				name = recv + "." + name
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if n > funcLimit {
				t.funcs = append(t.funcs, sized{path + ": " + name, n})
			}
		}
		return nil
	})
	return t, err
}

func receiver(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return ""
	}
	e := fn.Recv.List[0].Type
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	case *ast.IndexListExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

func print(t tally, topTypes int) {
	byLines := func(s []sized) {
		sort.Slice(s, func(i, j int) bool { return s[i].lines > s[j].lines })
	}
	byLines(t.files)
	over := func(limit int) (n int) {
		for _, f := range t.files {
			if f.lines > limit {
				n++
			}
		}
		return n
	}
	fmt.Printf("non-test .go files: %d; > 400 lines: %d; > 300 lines: %d\n", len(t.files), over(400), over(300))
	for _, f := range t.files {
		if f.lines <= 300 {
			break
		}
		fmt.Printf("  %5d  %s\n", f.lines, f.name)
	}
	byLines(t.funcs)
	fmt.Printf("functions over the limit: %d\n", len(t.funcs))
	for _, f := range t.funcs {
		fmt.Printf("  %5d  %s\n", f.lines, f.name)
	}
	types := make([]sized, 0, len(t.methods))
	for name, n := range t.methods {
		types = append(types, sized{name, n})
	}
	sort.Slice(types, func(i, j int) bool {
		if types[i].lines != types[j].lines {
			return types[i].lines > types[j].lines
		}
		return types[i].name < types[j].name
	})
	fmt.Printf("types by method count (top %d):\n", topTypes)
	for i := 0; i < len(types) && i < topTypes; i++ {
		fmt.Printf("  %5d  %s\n", types[i].lines, types[i].name)
	}
}
