// Package buildinfo names the build of the running binary: one string for
// `cogsweep version`, the report header and the audit record, so that what
// a user reads on the terminal is what the audit kept.
package buildinfo

import (
	"cmp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what the binary knows of its build.
type Info struct {
	// Version is the -ldflags version, else the module version that `go
	// install ...@v1.2.3` stamps, else "dev".
	Version string
	// Commit is the VCS revision, from -ldflags or from the Go toolchain's
	// vcs.revision; "" when neither stamped one (-buildvcs=false).
	Commit string
	// Modified is vcs.modified: built from a tree with uncommitted changes.
	Modified  bool
	GoVersion string
}

// Read returns the build's Info. version and commit are the -ldflags
// variables of the command line ("dev" and "" when not set).
func Read(version, commit string) Info {
	i := Info{Version: cmp.Or(version, "dev"), Commit: commit, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if i.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		i.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = cmp.Or(i.Commit, s.Value)
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String is the one line that names the build, e.g.
// "v1.2.0 (commit 08539aa9f2b0, go1.26.8)" or
// "dev (commit 08539aa9f2b0, dirty, go1.26.8)".
func (i Info) String() string {
	var parts []string
	if i.Commit != "" {
		parts = append(parts, "commit "+short(i.Commit))
	}
	if i.Modified {
		parts = append(parts, "dirty")
	}
	parts = append(parts, i.GoVersion)
	return i.Version + " (" + strings.Join(parts, ", ") + ")"
}

// short is a commit's first 12 hex digits, as git and Go's pseudo-versions
// abbreviate it.
func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
