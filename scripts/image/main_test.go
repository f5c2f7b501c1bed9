package main

import (
	"archive/tar"
	"crypto/sha256"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// binary is cogsweep built as `make image` builds it: static, trimmed.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cogsweep-image")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cogsweep")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", binary, "../../cmd/cogsweep")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build cogsweep: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// file is one regular file or directory of the image's filesystem.
type file struct {
	mode     int64
	uid      int
	dir      bool
	data     []byte
	modTime  time.Time
	typeflag byte
}

func buildTarball(t *testing.T, epoch int64) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cogsweep-image.tar")
	if err := run([]string{"--binary", binary, "--out", out, "--tag", "cogsweep:test", "--version", "test", "--epoch", strconv.FormatInt(epoch, 10)}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImage_ReadBack(t *testing.T) {
	const epoch = 1700000000
	path := buildTarball(t, epoch)
	tag, err := name.NewTag("cogsweep:test")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	// The same tarball is an OCI image layout: both readers see one image.
	oci := readLayout(t, path, "test")
	for _, check := range []struct {
		what string
		get  func(v1.Image) (v1.Hash, error)
	}{
		{"config", v1.Image.ConfigName},
		{"layer", func(i v1.Image) (v1.Hash, error) {
			ls, err := i.Layers()
			if err != nil || len(ls) == 0 {
				return v1.Hash{}, fmt.Errorf("layers: %v", err)
			}
			return ls[0].Digest()
		}},
	} {
		a, err1 := check.get(img)
		b, err2 := check.get(oci)
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("%s: docker manifest.json says %s (%v), OCI index %s (%v)", check.what, a, err1, b, err2)
		}
	}
	if mt, _ := oci.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI", mt)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/cogsweep"}) {
		t.Errorf("entrypoint %v", c.Entrypoint)
	}
	uid, _, _ := strings.Cut(c.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("user %q: want a numeric non-root uid (runAsNonRoot checks numbers)", c.User)
	}
	for _, e := range []string{"TMPDIR=/tmp", "PATH=/usr/local/bin"} {
		if !slices.Contains(c.Env, e) {
			t.Errorf("env %v lacks %s", c.Env, e)
		}
	}
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if want := time.Unix(epoch, 0); !cf.Created.Time.Equal(want) {
		t.Errorf("created %s, want %s", cf.Created.Time, want)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1 on an empty base", len(layers), err)
	}

	files := readFS(t, img)
	bin, ok := files["usr/local/bin/cogsweep"]
	switch {
	case !ok:
		t.Fatal("no /usr/local/bin/cogsweep in the image")
	case bin.typeflag != tar.TypeReg || bin.mode&0o111 != 0o111:
		t.Errorf("binary type %c mode %o: want a regular file executable by all", bin.typeflag, bin.mode)
	}
	want, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if string(bin.data) != string(want) {
		t.Error("the image's binary differs from the one built")
	}
	if tmp := files["tmp"]; !tmp.dir || tmp.mode&0o1777 != 0o1777 {
		t.Errorf("/tmp mode %o dir %v, want a sticky world-writable directory", tmp.mode, tmp.dir)
	}
	if p := string(files["etc/passwd"].data); !strings.Contains(p, ":"+uid+":") {
		t.Errorf("/etc/passwd does not name uid %s:\n%s", uid, p)
	}
	for n, f := range files {
		if !f.modTime.Equal(time.Unix(epoch, 0)) {
			t.Errorf("%s: mtime %s, want the epoch", n, f.modTime)
		}
	}

	// The binary from the image runs by itself (static: no libc) and has
	// its TLS roots compiled in.
	exe := filepath.Join(t.TempDir(), "cogsweep")
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "cogsweep ") {
		t.Errorf("cogsweep version: %v %q", err, out)
	}
	bi, err := buildinfo.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	hasRoots := false
	for _, d := range bi.Deps {
		hasRoots = hasRoots || d.Path == "golang.org/x/crypto/x509roots/fallback"
	}
	if !hasRoots {
		t.Error("the binary lacks golang.org/x/crypto/x509roots/fallback: TLS would fail on an empty base")
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" && s.Value != "0" {
			t.Errorf("CGO_ENABLED=%s", s.Value)
		}
	}
}

// readLayout unpacks the tarball and reads it as an OCI image layout,
// returning the image index.json names tag.
func readLayout(t *testing.T, path, tag string) v1.Image {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == tag {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("OCI image does not validate: %v", err)
			}
			return img
		}
	}
	t.Fatalf("index.json names no image %q: %+v", tag, im.Manifests)
	return nil
}

// readFS returns the image's flattened filesystem by path (no leading
// slash, no trailing one on directories).
func readFS(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Trim(h.Name, "/")
		files[n] = file{mode: h.Mode, uid: h.Uid, dir: h.Typeflag == tar.TypeDir, data: data, modTime: h.ModTime, typeflag: h.Typeflag}
	}
}

// TestImage_Reproducible: the same binary and epoch give the same file,
// byte for byte (so the same digests); another epoch gives another image.
func TestImage_Reproducible(t *testing.T) {
	sum := func(path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", sha256.Sum256(data))
	}
	a := sum(buildTarball(t, 1700000000))
	b := sum(buildTarball(t, 1700000000))
	if a != b {
		t.Errorf("two builds of one binary: sha256 %s and %s", a, b)
	}
	if c := sum(buildTarball(t, 1700000001)); c == a {
		t.Error("another epoch gave the same tarball: the epoch is not in the image")
	}
}

func TestBuild_RefusesWhatCannotRun(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{name: "not an ELF file", path: text, want: "not a Linux ELF"},
		{name: "missing", path: filepath.Join(dir, "nope"), want: "read binary"},
	}
	// A dynamically linked program, where the system has one.
	for _, p := range []string{"/bin/ls", "/usr/bin/env"} {
		if dynamic(p) {
			tests = append(tests, struct{ name, path, want string }{name: "dynamically linked " + p, path: p, want: "CGO_ENABLED=0"})
			break
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(Options{Binary: tt.path, Epoch: time.Unix(0, 0)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func dynamic(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	_, err = staticLinuxArch(data)
	return err != nil && strings.Contains(err.Error(), "dynamically")
}
