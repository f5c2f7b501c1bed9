#!/usr/bin/env bash
# make screenshot: a real run's page for the README (docs/report.png).
# A demo run long enough to draw: 300 leavers disabled with --rate auto
# against the local fake Cognito, whose UserUpdate quota (25/s) production
# shares (12/s at random) and which fails 10% of calls; the run is
# interrupted after 8 s (SIGINT) and resumed, so the page shows a resume.
# Then `cogsweep report --html` and headless Chromium's screenshot of it.
# Needs bin/ (make build) and chromium. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

POOL=us-east-1_DEMO00001
out=.demo/screenshot
rm -rf "$out" && mkdir -p "$out"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

{
  echo "user_pool_id,username,email,sub,enabled,status,created,modified,groups"
  for i in $(seq -w 1 290); do
    echo "$POOL,leaver$i,leaver$i@example.com,00000000-0000-4000-8000-000000000$i,true,CONFIRMED,2024-01-01T09:00:00Z,2024-01-01T09:00:00Z,"
  done
} >"$out/users.csv"
{
  echo "username"
  for i in $(seq -w 1 300); do echo "leaver$i"; done # the last ten are not in the pool
  echo "not a valid name"
  echo "also/invalid"
} >"$out/leavers.csv"

bin/fakecognito --seed "$out/users.csv" --url-file "$out/url" --quota 25 --production 12 \
  --production-pattern poisson --error 0.1 --latency 20ms --jitter 30ms >"$out/fake.log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/url" ] && break; sleep 0.05; done
[ -s "$out/url" ] || { echo "fake Cognito did not start:"; cat "$out/fake.log"; exit 1; }
url=$(cat "$out/url")
export AWS_ENDPOINT_URL_STS="$url"

cd "$out"
# run [SECONDS]: the disable, interrupted by SIGINT after SECONDS if given.
run() {
  local code=0 pid
  ../../bin/cogsweep disable --user-pool-id $POOL --input leavers.csv --rate auto --max-attempts 2 \
    --endpoint-url "$url" --log-format text --progress off >>run.log 2>&1 &
  pid=$!
  if [ -n "${1:-}" ]; then (sleep "$1"; kill -INT "$pid" 2>/dev/null || true) & fi
  wait "$pid" || code=$?
  echo "$code"
}
first=$(run 8)
echo "screenshot: first run exited $first (75: interrupted), resuming" >&2
second=$(run)
echo "screenshot: resumed run exited $second (3: some rows invalid or failed)" >&2
../../bin/cogsweep report leavers.disable.report.ndjson --html report.html
cd - >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,1900 \
  --screenshot="$PWD/docs/report.png" "file://$PWD/$out/report.html" 2>/dev/null
echo "screenshot: docs/report.png from $out/report.html" >&2
