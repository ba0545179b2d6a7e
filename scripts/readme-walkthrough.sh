#!/usr/bin/env bash
# The README's walkthrough, run as a newcomer would run it: the block after
# the "<!-- walkthrough" marker, pasted as one into a fresh shell (bash, no
# rc files, an empty HOME, only PATH and LANG from the environment) at the
# repository root, then the README's teardown block.
#
# It fails unless the specialist's first redeem writes a Bundle, the last
# command of the block is refused because the grant was revoked, and the
# teardown leaves no process behind. Needs bin/healthwallet (make build)
# and jq, as the README says.
#
# Usage: scripts/readme-walkthrough.sh
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x bin/healthwallet ] || { echo "walkthrough: no bin/healthwallet (run make build)"; exit 2; }
command -v jq >/dev/null || { echo "walkthrough: needs jq (apt-get install jq)"; exit 2; }

# block MARKER: the first ```sh block after the line matching MARKER.
block() { awk -v m="$1" '$0 ~ m {f=1; next} f && /^```sh/ {g=1; next} g && /^```/ {exit} g {print}' README.md; }
walk=$(block '^<!-- walkthrough')
teardown=$(block '^Teardown:')
[ -n "$walk" ] && [ -n "$teardown" ] || { echo "walkthrough: README has no walkthrough or teardown block"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home"
# The walkthrough's own directory is in $W; the script prints it so the
# check below can look inside before the teardown deletes it.
script="$walk"$'\n'"echo \"WALKTHROUGH-DIR=\$W\"; ls \"\$W/received\" > \"$tmp/received.txt\""$'\n'"echo WALKTHROUGH-END"$'\n'"$teardown"
setsid env -i HOME="$tmp/home" PATH="$PATH" LANG=C.UTF-8 \
	timeout 300 bash --noprofile --norc -c "$script" >"$tmp/log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
sed 's/^/  │ /' "$tmp/log"
# Whatever the teardown left in the session (it should be nothing) is killed
# here, and counted as a failure.
left=$(pgrep -s "$pid" 2>/dev/null | wc -l)
pkill -KILL -s "$pid" 2>/dev/null || true

fail() { echo "walkthrough: ✗ $*"; exit 1; }
[ "$rc" -eq 0 ] || fail "the pasted block and teardown exited with status $rc"
grep -q '^WALKTHROUGH-END$' "$tmp/log" || fail "the block did not run to its end"
grep -q '\.json$' "$tmp/received.txt" 2>/dev/null || fail "the specialist's first redeem wrote no Bundle"
last=$(sed -n '/^WALKTHROUGH-DIR=/{x;p;q};h' "$tmp/log")
grep -qiE 'revoked|withdrew' <<<"$last" || fail "the last line before the end is not the revoked refusal: $last"
[ "$left" -eq 0 ] || fail "the teardown left $left process(es) running"
dir=$(sed -n 's/^WALKTHROUGH-DIR=//p' "$tmp/log")
[ -n "$dir" ] && [ ! -e "$dir" ] || fail "the teardown did not delete $dir"
echo "walkthrough: ✓ pasted as one block it ends with: $last"
