#!/usr/bin/env bash
# make demo: patient → specialist → family → second specialist over a real
# network and chain, on one machine. Every actor is its own process with its
# own wallet home; they talk only over loopback libp2p and JSON-RPC.
#
# Prints a short transcript and exits non-zero as soon as a step does not
# behave as stated. Every command is checked where it runs: its exit status,
# and the value the next step needs (a link, an id, a count) parsed with jq
# and required to be there. So a failed grant stops the demo at the grant,
# with its own error, and is never reported later as a failed redeem.
#
# Usage: scripts/demo.sh [BINARY]   (default bin/healthwallet)
# shellcheck disable=SC2154 # get and refused set variables by name
set -uo pipefail
bin=$(realpath "${1:-bin/healthwallet}")
[ -x "$bin" ] || { echo "demo: no binary at $bin (run make build)"; exit 2; }
command -v jq >/dev/null || { echo "demo: needs jq (apt-get install jq)"; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
	trap '' INT TERM
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export HW_PASSPHRASE="correct horse battery staple"
export HW_DEVNET_FILE="$work/devnet.json"
export LANG=C.UTF-8
step=0
ok()   { step=$((step + 1)); printf '%2d. ✓ %s\n' "$step" "$*"; }
fail() { printf '    ✗ %s\n' "$*"; exit 1; }

# These helpers set variables instead of printing, so that fail ends the
# demo (inside $(...) it would only end a subshell).

# run WHAT HOME ARGS...: run the binary on the wallet in $work/HOME; its
# stdout is in $work/out, its stderr in $work/err. Stops the demo, naming
# WHAT and showing the error, if the command fails.
run() {
	local what=$1 home=$2; shift 2
	"$bin" --home "$work/$home" "$@" >"$work/out" 2>"$work/err" || {
		local rc=$?
		sed 's/^/      │ /' "$work/err"
		fail "$what: exit status $rc"
	}
}
# refused WHAT HOME ARGS...: as run, for a command that must fail; its
# one-line error is in $out. Stops the demo if the command succeeds.
refused() {
	local what=$1 home=$2; shift 2
	if "$bin" --home "$work/$home" "$@" >"$work/out" 2>"$work/err"; then
		fail "$what: the command succeeded"
	fi
	out=$(cat "$work/err")
}
# get VAR WHAT FILTER [FILE]: VAR = jq -r FILTER of FILE (default: the
# last command's stdout). Stops the demo, naming WHAT, if FILE is not JSON
# or the value is missing, null, false or empty.
get() {
	local var=$1 what=$2 filter=$3 file=${4:-$work/out} v
	v=$(jq -er "$filter" "$file" 2>/dev/null) && [ -n "$v" ] ||
		fail "$what: no $filter in the output: $(head -c 300 "$file")"
	printf -v "$var" '%s' "$v"
}
# expect WHAT NEEDLE: the last refused command's error must contain NEEDLE.
expect() { grep -qF -- "$2" <<<"$out" || fail "$1: want an error with \"$2\", got: $out"; }

# start NAME FIELD CMD...: run a long-lived command, wait (60 s at most) for
# its first line, a JSON object with FIELD. Stops the demo, naming NAME, if
# the command exits first or prints no such line.
start() {
	local name=$1 field=$2; shift 2
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	local pid=$!
	pids+=("$pid")
	eval "${name}_pid=$pid"
	local deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		[ -s "$work/$name.out" ] && jq -e --arg f "$field" '.[$f] // empty' "$work/$name.out" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { sed 's/^/      │ /' "$work/$name.err"; fail "$name exited before it was ready"; }
		sleep 0.1
	done
	sed 's/^/      │ /' "$work/$name.err"
	fail "$name did not print its ready line (with .$field) within 60 s"
}
stop() { local v="${1}_pid"; kill "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null; }

# --- the chain and the relay ---------------------------------------------
start devnet registry "$bin" devnet --port 0 --datadir "$work/chain"
get chain "devnet" .chainId "$work/devnet.out"
get registry "devnet" .registry "$work/devnet.out"
get rpc "devnet" .rpc "$work/devnet.out"
[ -s "$HW_DEVNET_FILE" ] || fail "devnet: wrote no $HW_DEVNET_FILE"
ok "devnet: chain $chain, registry $registry at $rpc"
start relay url "$bin" relay --listen 127.0.0.1:0
get relay "relay" .url "$work/relay.out"
[[ $relay == http://127.0.0.1:* ]] || fail "relay: url $relay is not on loopback"
ok "relay at $relay pays revocation gas (the patient's wallet holds no ETH)"

# --- four wallets --------------------------------------------------------
declare -A did
for who in patient specialist family second; do
	run "init $who" $who init --json
	run "whoami $who" $who whoami --json
	get d "whoami $who" .did
	[[ $d == did:key:* ]] || fail "whoami $who: $d is not a did:key"
	did[$who]=$d
done
ok "wallets: patient, specialist, family member, second specialist"

fixture=$(ls "$(dirname "$0")"/../testdata/fhir/synthea/Marguerita_Reilly_*.json.gz) || fail "no Synthea fixture"
gunzip -c "$fixture" >"$work/marguerita.json" || fail "gunzip $fixture"
run "patient import" patient import "$work/marguerita.json" --json
get n "patient import" '.[0].added'
[ "$n" = 548 ] || fail "patient imported $n resources, want 548"
ok "patient imports a Synthea bundle: $n resources"

start node peerId "$bin" --home "$work/patient" node --json --listen /ip4/127.0.0.1/tcp/0
get peer "node" .peerId "$work/node.out"
ok "patient's node $(cut -c1-16 <<<"$peer")… serves on loopback"

# --- patient → specialist: labs and medications, one hour -----------------
run "grant to the specialist" patient grant --to "${did[specialist]}" --category labs --category medications --for 1h --json
get link1 "grant to the specialist" .link
ok "patient shares labs and medications with the specialist for 1 hour (${#link1} characters, EIP-712 signed, sealed to the specialist)"

run "specialist redeem" specialist redeem "$link1" --out "$work/specialist" --json
cp "$work/out" "$work/r1.json"
get got "specialist redeem" .file "$work/r1.json"
get resources "specialist redeem" .resources "$work/r1.json"
[ -s "$got" ] || fail "specialist redeem: no bundle at $got"
run "export" patient export --category labs --category medications --out "$work/expected.json"
# The package travels as one object per group of records; the redeemed
# Bundle merges them, so compare the resources as a set.
jq -Se '[.entry[].resource] | sort' "$got" >"$work/got.sorted" || fail "specialist redeem: $got is not a FHIR Bundle"
jq -Se '[.entry[].resource] | sort' "$work/expected.json" >"$work/expected.sorted" || fail "export: not a FHIR Bundle"
cmp -s "$work/got.sorted" "$work/expected.sorted" ||
	fail "the specialist's bundle differs in content from the share package"
ok "specialist redeems: $resources resources, identical in content to the share package"

# --- patient → family (delegable), family → second specialist -------------
run "grant to the family member" patient grant --to "${did[family]}" --category labs --category medications --for 7d --delegable 1 --json
get link2 "grant to the family member" .link
run "family redeem" family redeem "$link2" --json
get _ "family redeem" .resources
ok "patient gives the family member a delegable grant for 7 days; family redeems"
run "delegate to the second specialist" family delegate "$link2" --to "${did[second]}" --for 24h --category labs
link3=$(cat "$work/out")
[ -n "$link3" ] && [ "$(wc -l <"$work/out")" = 1 ] || fail "delegate to the second specialist: want one link, got: $(head -c 300 "$work/out")"
run "second specialist redeem" second redeem "$link3" --out "$work/second" --json
get bundle3 "second specialist redeem" .file
get meds "second specialist redeem" '[.entry[].resource | select(.resourceType == "MedicationRequest")] | length' "$bundle3"
get labs "second specialist redeem" '[.entry[].resource | select(.resourceType == "Observation")] | length' "$bundle3"
[ "$meds" = 0 ] && [ "$labs" -gt 0 ] || fail "the labs-only delegate received $meds medications and $labs observations"
ok "family delegates labs to a second specialist for 24 hours; the second specialist redeems $labs observations and no medication"

# --- fault: a grant presented by the wrong wallet --------------------------
refused "the family member redeeming the specialist's grant" family redeem "$link1"
expect "wrong wallet" "this link is not addressed to this wallet"
ok "the specialist's link presented by the family member's wallet is refused: $out"

# --- revocation through the relay -----------------------------------------
run "grants" patient grants --json
export GRANTEE=${did[family]}
get fam "grants: the one grant to the family member" '[.[] | select(.grantee == env.GRANTEE) | .id] | if length == 1 then .[0] else empty end'
run "revoke through the relay" patient revoke "$fam" --relay "$relay"
ok "patient revokes the family grant through the relay"
refused "the second specialist redeeming after revocation" second redeem "$link3"
expect "after revocation" "grant revoked"
ok "the second specialist's next redeem is refused: $out"
refused "the patient's node serving a revoked chain" second redeem "$link3" --skip-local-checks
expect "node after revocation" "node refused the grant: grant revoked"
ok "the patient's node refuses to serve it too: $out"

# --- the access log -------------------------------------------------------
stop node
run "access log" patient access --json
get served "access log" '[.[] | select(.granted)] | length'
get denied "access log" '[.[] | select(.granted | not)] | length'
[ "$served" = 3 ] || fail "access log shows $served served redemptions, want 3"
[ "$denied" -ge 1 ] || fail "access log shows no refusal"
ok "the patient's access log lists every redemption: $served served, $denied refused"

# --- a live family grant: a new lab result arrives without a new grant -----
start livenode peerId "$bin" --home "$work/patient" node --json --listen /ip4/127.0.0.1/tcp/0
run "live grant to the family member" patient grant --to "${did[family]}" --category labs --for 30d --live --json
get link4 "live grant to the family member" .link
[[ $link4 == *"#live="* ]] || fail "live grant: its link carries no #live= name"
"$bin" --home "$work/family" redeem "$link4" --follow --every 1s >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
pids+=("$follow_pid")
waitfor() { # waitfor WHAT NEEDLE: wait (60 s at most) for NEEDLE in follow.out
	local deadline=$((SECONDS + 60))
	until grep -qF -- "$2" "$work/follow.out"; do
		((SECONDS < deadline)) && kill -0 "$follow_pid" 2>/dev/null || {
			sed 's/^/      │ /' "$work/follow.out" "$work/follow.err"
			fail "$1: no \"$2\" from redeem --follow"
		}
		sleep 0.2
	done
}
waitfor "family redeem --follow" "live grant: version 1"
ok "patient gives the family member a live grant of labs for 30 days; family redeems it with --follow"
lab=$(dirname "$0")/../wallet/testdata/live/a1c-2026-11-20.json
run "patient imports a new lab result" patient import "$lab" --json
get added "patient imports a new lab result" '.[0].added'
get published "patient imports a new lab result" '.[0].live'
[ "$added" = 1 ] && [ "$published" = 1 ] || fail "import: $added added, $published live grants updated, want 1 and 1"
waitfor "family follows the live grant" "version 2: 1 new record: Hemoglobin A1c"
stop follow
ok "a live family grant picks up a newly imported lab result without a new grant: $(grep -F 'version 2:' "$work/follow.out")"
stop livenode

# --- fault: patient's node offline ------------------------------------------
refused "redeem with the patient's node offline" specialist redeem "$link1"
expect "node offline" "$peer"
ok "patient's node offline: the error names the peer: $(cut -c1-110 <<<"$out")…"

# --- SMART Health Links: any viewer, through the keeper --------------------
# The keeper serves manifests over HTTPS with a certificate from a local
# test CA (`dev testca`); the viewers trust that CA explicitly. The node is
# stopped: the link works through the keeper alone.
here=$(cd "$(dirname "$0")" && pwd)
run "test CA" patient dev testca "$work/ca"
get ca_pem "test CA" .ca
get ca_cert "test CA" .cert
get ca_key "test CA" .key
run "init keeper" keeper init --json
start keeper shlUrl "$bin" --home "$work/keeper" keeper --json --listen /ip4/127.0.0.1/tcp/0 \
	--shl-listen 127.0.0.1:0 --shl-cert "$ca_cert" --shl-key "$ca_key"
get shl_url "keeper" .shlUrl "$work/keeper.out"
get kaddr "keeper" '.addrs[0]' "$work/keeper.out"
[[ $shl_url == https://127.0.0.1:* ]] || fail "keeper: SHL URL $shl_url is not HTTPS on loopback"
run "keepers add" patient keepers add "$kaddr" --name "Mum's PC"
ok "keeper serves SMART Health Links at $shl_url (HTTPS, local test CA); the patient enrols it"

run "shl create" patient shl create --category labs --category medications --for 1h \
	--passcode blue-otter-42 --label "Labs and medications for Dr. Osei" --json
get shl_link "shl create" .link
get shl_id "shl create" .id
[[ $shl_link == shlink:/* ]] || fail "shl create: $shl_link is not a shlink:/"
ok "patient makes a SMART Health Link with a passcode (flag P, ${#shl_link} characters, its file a JWE on the keeper)"

# node_open WHAT PASSCODE: the independent Node client (Medplum's parser,
# jose, plain fetch) opens the link; its exit status is in $rc.
node_open() {
	NODE_EXTRA_CA_CERTS="$ca_pem" "$here/shl-node.sh" open "$shl_link" "$2" "Dr. Osei's intake" >"$work/out" 2>"$work/err"
	rc=$?
}
node_open "wrong passcode" red-otter-42
[ "$rc" = 3 ] || { sed 's/^/      │ /' "$work/err"; fail "Node client with a wrong passcode: exit status $rc, want 3"; }
get left "Node client, wrong passcode" .remainingAttempts
ok "a wrong passcode is refused by the keeper: $left attempts left"
node_open "open" blue-otter-42
[ "$rc" = 0 ] || { sed 's/^/      │ /' "$work/err"; fail "Node client open: exit status $rc"; }
get shl_n "Node client open" '.files[0].text | fromjson | .entry | length'
get shl_meds "Node client open" '[.files[0].text | fromjson | .entry[].resource | select(.resourceType == "MedicationRequest")] | length'
[ "$shl_meds" -gt 0 ] || fail "the Node client's bundle holds no medication"
ok "an independent Node client (fetch + jose, trusting the test CA) opens it through the keeper: $shl_n resources"

run "revoke the link" patient revoke "$shl_id" --relay "$relay"
ok "patient revokes the link on chain through the relay"
node_open "after revocation" blue-otter-42
[ "$rc" = 4 ] || { sed 's/^/      │ /' "$work/err"; fail "Node client after revocation: exit status $rc, want 4 (404)"; }
ok "the Node client is refused now: $(jq -r .error "$work/out") (404)"
run "keepers sync" patient keepers sync
run "access log" patient access --json
export SHL_ID=$shl_id
get shl_ok "access log: the link's served requests" '[.[] | select(.shl == env.SHL_ID and .granted and .recipient == "Dr. Osei'"'"'s intake")] | length'
get shl_refused "access log: the link's refusals" '[.[] | select(.shl == env.SHL_ID and (.granted | not))] | length'
[ "$shl_ok" -ge 1 ] && [ "$shl_refused" -ge 2 ] || fail "access log: $shl_ok served and $shl_refused refused requests of the link, want some and 2 (wrong passcode, revoked)"
ok "the keeper's records reach the patient's access log: the link served $shl_ok requests to \"Dr. Osei's intake\", refused $shl_refused"
stop keeper

# --- fault: chain RPC stopped ----------------------------------------------
stop devnet
refused "redeem with the chain down" specialist redeem "$link1" --mirror-max-age 0
expect "chain down" "revocation status unknown"
ok "chain RPC stopped: redeem refused, fail closed: $(cut -c1-100 <<<"$out")"

echo "demo: all $step steps behaved as stated"
