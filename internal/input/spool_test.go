package input

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func TestSpool(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("username\nalice\n"), 10_000)
	path, err := Spool(bytes.NewReader(data), dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("spooled to %s, want a file in %s", path, dir)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("spooled %d bytes, want the %d given", len(got), len(data))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %v, want 0600", perm)
	}
}

func TestSpool_ReadErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("stdin closed")
	_, err := Spool(io.MultiReader(bytes.NewReader([]byte("username\n")), iotest.ErrReader(boom)), dir)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read error", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("left %d files behind", len(entries))
	}
}
