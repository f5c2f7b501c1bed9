#!/usr/bin/env bash
# Release files in dist/: a static binary per platform, a CycloneDX SBOM of
# the module graph, and SHA256SUMS of them all. The version is the one Go
# stamps into the build info from git (module version, commit, dirty flag),
# the same as `go install` gives: no -X, so the binary, the audit record and
# `go version -m` agree. Builds are reproducible: -trimpath, no build id.
# Go stamps the version only in a clone (where .git is a directory, not a
# worktree's .git file): elsewhere this refuses rather than ship "(devel)".
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
TARGETS=${DIST_TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"}
# Run from the module cache at a pinned version rather than as a tool
# dependency: a tool in go.mod would join the module graph it describes.
CYCLONEDX=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0

mkdir -p dist
files=()
for t in $TARGETS; do
  os=${t%/*} arch=${t#*/} ext=
  [ "$os" = windows ] && ext=.exe
  out=cogsweep-$os-$arch$ext
  echo "build dist/$out"
  # -buildvcs=true outright: a GOFLAGS=-buildvcs=false in go env must not
  # make a release without its version.
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -buildvcs=true -trimpath -ldflags "-s -w -buildid=" \
    -o "dist/$out" ./cmd/cogsweep
  if ! "$GO" version -m "dist/$out" | grep -q 'vcs.revision='; then
    echo "dist/$out has no commit in its build info: run make dist in a git clone (not a worktree)" >&2
    exit 1
  fi
  files+=("$out")
done

echo "sbom dist/cogsweep.cdx.json"
# No serial number or timestamp: two runs on one commit give the same file.
"$GO" run "$CYCLONEDX" mod -json -licenses -noserial -notimestamp -type application -output dist/cogsweep.cdx.json
files+=(cogsweep.cdx.json)

(cd dist && sha256sum "${files[@]}" > SHA256SUMS)
echo "dist/SHA256SUMS: ${#files[@]} files"
