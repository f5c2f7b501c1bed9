//go:build release

// Package release tests the release path as a user meets it: `make dist`'s
// files and `go install`. Cross-compiling five platforms takes minutes on a
// cold build cache, so these run apart from `make test`: `make
// test-release` (a step of .ci/run). They need a git clone, not a
// worktree: Go stamps the version only where .git is a directory.
package release

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const module = "github.com/cogsweep/cogsweep"

// root is the repository's top directory.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func setting(bi *buildinfo.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// TestDist runs `make dist` and checks its files as a user downloading them
// would: the checksums verify, each binary is a static build for its
// platform stamped with this commit, the host's runs and reports that
// version, and the SBOM names the module and the AWS SDK.
func TestDist(t *testing.T) {
	top := root(t)
	run(t, top, nil, "make", "dist")
	dist := filepath.Join(top, "dist")
	run(t, dist, nil, "sha256sum", "--check", "--strict", "SHA256SUMS")
	head := strings.TrimSpace(run(t, top, nil, "git", "rev-parse", "HEAD"))

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for sc := bufio.NewScanner(bytes.NewReader(sums)); sc.Scan(); {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			listed[f[1]] = true
		}
	}
	tests := []struct {
		name, goos, goarch string
	}{
		{name: "cogsweep-linux-amd64", goos: "linux", goarch: "amd64"},
		{name: "cogsweep-linux-arm64", goos: "linux", goarch: "arm64"},
		{name: "cogsweep-darwin-amd64", goos: "darwin", goarch: "amd64"},
		{name: "cogsweep-darwin-arm64", goos: "darwin", goarch: "arm64"},
		{name: "cogsweep-windows-amd64.exe", goos: "windows", goarch: "amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !listed[tt.name] {
				t.Errorf("not in SHA256SUMS")
			}
			bi, err := buildinfo.ReadFile(filepath.Join(dist, tt.name))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"GOOS": tt.goos, "GOARCH": tt.goarch, "CGO_ENABLED": "0", "-trimpath": "true", "vcs.revision": head}
			for k, v := range want {
				if got := setting(bi, k); got != v {
					t.Errorf("build info %s = %q, want %q", k, got, v)
				}
			}
			if bi.Main.Path != module || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
				t.Errorf("main module %s %q: want %s with the version Go stamps from git", bi.Main.Path, bi.Main.Version, module)
			}
			if tt.goos != runtime.GOOS || tt.goarch != runtime.GOARCH {
				return
			}
			out := run(t, dist, nil, "./"+tt.name, "version")
			if !strings.HasPrefix(out, "cogsweep ") || !strings.Contains(out, head[:12]) {
				t.Errorf("version says %q, want cogsweep and commit %s", out, head[:12])
			}
		})
	}
	if !listed["cogsweep.cdx.json"] || len(listed) != len(tests)+1 {
		t.Errorf("SHA256SUMS lists %v, want the %d binaries and cogsweep.cdx.json", listed, len(tests))
	}
	checkSBOM(t, filepath.Join(dist, "cogsweep.cdx.json"))
}

// checkSBOM checks the SBOM is CycloneDX JSON describing the module and its
// AWS SDK dependency at go.mod's version.
func checkSBOM(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type component struct {
		Name, Version, Purl string
	}
	var bom struct {
		BomFormat   string
		SpecVersion string
		Metadata    struct{ Component component }
		Components  []component
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatalf("SBOM: %v", err)
	}
	if bom.BomFormat != "CycloneDX" || bom.SpecVersion == "" {
		t.Errorf("SBOM format %q %q", bom.BomFormat, bom.SpecVersion)
	}
	if bom.Metadata.Component.Name != module {
		t.Errorf("SBOM describes %q, want %s", bom.Metadata.Component.Name, module)
	}
	sdk := ""
	for _, c := range bom.Components {
		if c.Name == "github.com/aws/aws-sdk-go-v2" {
			sdk = c.Version
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if sdk == "" || !strings.Contains(string(gomod), "github.com/aws/aws-sdk-go-v2 "+sdk+"\n") {
		t.Errorf("SBOM has aws-sdk-go-v2 at %q, want go.mod's version", sdk)
	}
}

// TestGoInstall checks what `go install github.com/cogsweep/cogsweep/cmd/cogsweep@latest`
// needs: a go.mod with no replace or exclude directive (go install
// pkg@version refuses them) declaring the path users name; then installs
// in module mode from the checkout, and as @latest itself, with the
// module's GitHub address rewritten to this repository (git's insteadOf) and
// the dependencies served from the module cache: no network.
func TestGoInstall(t *testing.T) {
	top := root(t)
	gomod, err := os.ReadFile(filepath.Join(top, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "replace" || f[0] == "exclude") {
			t.Errorf("go.mod:%d: %s: go install ...@latest refuses a module with it", i+1, f[0])
		}
	}
	if !strings.HasPrefix(string(gomod), "module "+module+"\n") {
		t.Fatalf("go.mod does not declare module %s", module)
	}
	head := strings.TrimSpace(run(t, top, nil, "git", "rev-parse", "HEAD"))
	modcache := strings.TrimSpace(run(t, top, nil, "go", "env", "GOMODCACHE"))
	tests := []struct {
		name, dir, pkg string
		env            func(t *testing.T) []string
		wantVersion    string // the suffix of the build info's module version
	}{
		{name: "from the checkout", dir: top, pkg: "./cmd/cogsweep",
			env: func(*testing.T) []string { return []string{"GOFLAGS=-mod=mod"} }},
		{name: "at latest", pkg: module + "/cmd/cogsweep@latest", wantVersion: "-" + head[:12],
			env: func(t *testing.T) []string {
				gitconfig := filepath.Join(t.TempDir(), "gitconfig")
				rewrite := "[url \"file://" + top + "\"]\n\tinsteadOf = https://" + module + "\n"
				if err := os.WriteFile(gitconfig, []byte(rewrite), 0o644); err != nil {
					t.Fatal(err)
				}
				// A module cache of its own, so that this commit's
				// pseudo-version stays out of the shared one.
				mc := t.TempDir()
				t.Cleanup(func() { run(t, mc, nil, "chmod", "-R", "u+w", mc) })
				return []string{"GIT_CONFIG_GLOBAL=" + gitconfig, "GOMODCACHE=" + mc, "GOSUMDB=off", "GOFLAGS=-mod=mod", "GONOPROXY=" + module,
					"GOPROXY=file://" + filepath.Join(modcache, "cache", "download") + ",direct"}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gobin := t.TempDir()
			dir := tt.dir
			if dir == "" {
				dir = t.TempDir() // outside any module, as a user's shell
			}
			run(t, dir, append(tt.env(t), "GOBIN="+gobin), "go", "install", tt.pkg)
			bin := filepath.Join(gobin, "cogsweep")
			bi, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if bi.Path != module+"/cmd/cogsweep" || !strings.HasSuffix(bi.Main.Version, tt.wantVersion) {
				t.Errorf("installed %s at %s %q, want %s/cmd/cogsweep at a version ending %q", bi.Path, bi.Main.Path, bi.Main.Version, module, tt.wantVersion)
			}
			if out := run(t, gobin, nil, bin, "version"); !strings.HasPrefix(out, "cogsweep ") {
				t.Errorf("version says %q", out)
			}
		})
	}
}

// TestImage_Arm64 builds the image for Graviton as README says, on this
// (any) host: the binary is cross-compiled, the image tool runs natively,
// and the image's config says arm64.
func TestImage_Arm64(t *testing.T) {
	top := root(t)
	run(t, top, []string{"GOARCH=arm64"}, "make", "image")
	img, err := tarball.ImageFromPath(filepath.Join(top, "dist", "cogsweep-image.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("image for %s/%s, want linux/arm64", cf.OS, cf.Architecture)
	}
	bi, err := buildinfo.ReadFile(filepath.Join(top, "dist", "cogsweep"))
	if err != nil {
		t.Fatal(err)
	}
	if got := setting(bi, "GOARCH"); got != "arm64" {
		t.Errorf("dist/cogsweep is for %s, want arm64", got)
	}
}
