#!/usr/bin/env bash
# Runs cogsweep end to end against the local fake Cognito seeded from
# fixtures/: disable the leavers of an HR file, then delete them after
# confirming the pool. Everything stays on 127.0.0.1; files go to .demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

POOL=us-east-1_DEMO00001
out=.demo
rm -rf "$out" && mkdir -p "$out"

# Any credentials do for the fake; never use real ones here.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

bin/fakecognito --seed fixtures/fakecognito/demo/users.csv --url-file "$out/url" >"$out/fake.log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/url" ] && break; sleep 0.05; done
[ -s "$out/url" ] || { echo "fake Cognito did not start:"; cat "$out/fake.log"; exit 1; }
url=$(cat "$out/url")
# The fake also answers STS GetCallerIdentity (the pre-flight's first call);
# --endpoint-url is Cognito's only.
export AWS_ENDPOINT_URL_STS="$url"
echo "fake Cognito at $url (pool $POOL, seeded from fixtures/fakecognito/demo/users.csv)"

# Exit 3 (some rows invalid or failed) is an answer, not a failure of the demo.
run() {
  echo; echo "\$ cogsweep $*"
  local code=0
  ../bin/cogsweep "$@" --endpoint-url "$url" --log-format text --progress off || code=$?
  [ "$code" = 0 ] || [ "$code" = 3 ] || { echo "cogsweep exited $code"; exit "$code"; }
}

cd "$out"
run disable --user-pool-id $POOL --input ../fixtures/demo/leavers.csv
run delete --user-pool-id $POOL --max-fraction 0.5 --input ../fixtures/demo/leavers.csv --dry-run
run delete --user-pool-id $POOL --confirm-pool-id $POOL --max-fraction 0.5 --input ../fixtures/demo/leavers.csv

# An HR feed that knows only email addresses. This pool's usernames are not
# emails, so each row is resolved with ListUsers (email = "..."); the delete
# keeps a copy of each user first (--backup: personal data, mode 0600).
run disable --user-pool-id $POOL --input ../fixtures/demo/leavers-by-email.csv
run delete --user-pool-id $POOL --confirm-pool-id $POOL --max-fraction 0.5 --input ../fixtures/demo/leavers-by-email.csv --backup deleted-users.ndjson
echo; echo "\$ cogsweep status --checkpoint leavers-by-email.delete.checkpoint"
../bin/cogsweep status --checkpoint leavers-by-email.delete.checkpoint
echo
echo "Reports are in $out/: $(ls *.report.ndjson | tr '\n' ' ')"
echo "The delete report: a header (audit record, cut here), then one line per row:"
head -1 leavers.delete.report.ndjson | cut -c1-160; echo "  ..."
sed -n '2,4p' leavers.delete.report.ndjson
echo "Rows 1, 6 and 8 of the disable by email (resolved, a repeated email, a malformed one):"
grep -E '"row":(1|6|8),' leavers-by-email.disable.report.ndjson
echo "First line of the backup taken before the deletes:"
head -1 deleted-users.ndjson

# One of them was deleted by mistake: bring that user back from the backup
# (attributes, groups, enabled state; Cognito gives a new sub, reported
# beside the old one). No invitation is sent: a password reset lets them in.
user=$(head -1 deleted-users.ndjson | sed -E 's/.*"username":"([^"]*)".*/\1/')
printf 'username\n%s\n' "$user" > wrongly-deleted.csv
run restore --from-backup deleted-users.ndjson --input wrongly-deleted.csv
echo "The restore report's line:"
sed -n '2p' wrongly-deleted.restore.report.ndjson
