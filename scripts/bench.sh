#!/usr/bin/env bash
# make bench: the side-by-side benchmark of issues 4 and 9. Builds the
# benchmark tools (scripts/bench: the driver, the SDK adaptive-mode peer and
# the no-op build for the memory row), runs the Go benchmarks of the reader
# and the report writer, then the driver, which prints one table of figures
# all measured in this run and writes it to docs/benchmarks.md.
# Needs bin/cogsweep (make build), moto_server and the aws CLI. Under 10
# minutes on 2 cores. Extra arguments go to the driver (e.g. -v, -quick,
# -only 2; a partial or quick run does not rewrite docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

mkdir -p bin/bench
$GO build -o bin/bench/bench ./scripts/bench
$GO build -o bin/bench/peer ./scripts/bench/peer
$GO build -o bin/bench/nopcogsweep ./scripts/bench/nopcogsweep

gobench=$(mktemp)
trap 'rm -f "$gobench"' EXIT
echo "bench: Go benchmarks of the reader and the report writer" >&2
$GO test -run '^$' -bench 'CSVReader|NDJSONReader|Writer' -benchmem -benchtime 200ms \
  ./internal/input ./internal/report >"$gobench"
grep '^Benchmark' "$gobench" >&2

./bin/bench/bench -cogsweep bin/cogsweep -peer bin/bench/peer -nop bin/bench/nopcogsweep \
  -gobench "$gobench" -out docs/benchmarks.md -command "make bench" "$@"
