#!/usr/bin/env bash
# make demo: patient → specialist → family → second specialist over a real
# network and chain, on one machine. Every actor is its own process with its
# own wallet home; they talk only over loopback libp2p and JSON-RPC.
#
# Prints a short transcript and exits non-zero as soon as a step does not
# behave as stated. Usage: scripts/demo.sh [BINARY]   (default bin/healthwallet)
set -uo pipefail
bin=$(realpath "${1:-bin/healthwallet}")
[ -x "$bin" ] || { echo "demo: no binary at $bin (run make build)"; exit 2; }
command -v jq >/dev/null || { echo "demo: needs jq (apt-get install jq)"; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

export HW_PASSPHRASE="correct horse battery staple"
export HW_DEVNET_FILE="$work/devnet.json"
export LANG=C.UTF-8
step=0
ok()   { step=$((step + 1)); printf '%2d. ✓ %s\n' "$step" "$*"; }
fail() { printf '    ✗ %s\n' "$*"; exit 1; }
hw()   { local home=$1; shift; "$bin" --home "$work/$home" "$@"; }

# start NAME CMD...: run a long-lived command, wait for its first JSON line.
start() {
	local name=$1; shift
	"$@" >"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	eval "${name}_pid=$!"
	for _ in $(seq 300); do [ -s "$work/$name.out" ] && return 0; sleep 0.1; done
	cat "$work/$name.err"; fail "$name did not start"
}
stop() { local v="${1}_pid"; kill "${!v}" 2>/dev/null; wait "${!v}" 2>/dev/null; }

# --- the chain and the relay ---------------------------------------------
start devnet "$bin" devnet --port 0 --datadir "$work/chain"
ok "devnet: chain $(jq -r .chainId "$work/devnet.out"), registry $(jq -r .registry "$work/devnet.out") at $(jq -r .rpc "$work/devnet.out")"
start relay "$bin" relay --listen 127.0.0.1:0
relay=$(jq -r .url "$work/relay.out")
ok "relay at $relay pays revocation gas (the patient's wallet holds no ETH)"

# --- four wallets --------------------------------------------------------
for who in patient specialist family second; do
	hw $who init >/dev/null || fail "init $who"
done
did() { hw "$1" whoami --json | jq -r .did; }
ok "wallets: patient, specialist, family member, second specialist"

fixture=$(ls "$(dirname "$0")"/../testdata/fhir/synthea/Marguerita_Reilly_*.json.gz)
gunzip -c "$fixture" >"$work/marguerita.json"
n=$(hw patient import "$work/marguerita.json" --json | jq '.[0].added')
[ "$n" = 548 ] || fail "patient imported $n resources, want 548"
ok "patient imports a Synthea bundle: $n resources"

start node "$bin" --home "$work/patient" node --json --listen /ip4/127.0.0.1/tcp/0
ok "patient's node $(jq -r .peerId "$work/node.out" | cut -c1-16)… serves on loopback"

# --- patient → specialist: labs and medications, one hour -----------------
g1=$(hw patient grant --to "$(did specialist)" --category labs --category medications --for 1h --json) || fail "grant to specialist"
link1=$(jq -r .link <<<"$g1")
ok "patient shares labs and medications with the specialist for 1 hour ($(jq -r .link <<<"$g1" | wc -c) characters, EIP-712 signed, sealed to the specialist)"

hw specialist redeem "$link1" --out "$work/specialist" --json >"$work/r1.json" 2>"$work/r1.err" || { cat "$work/r1.err"; fail "specialist redeem"; }
got=$(jq -r .file "$work/r1.json")
hw patient export --category labs --category medications --out "$work/expected.json" 2>/dev/null || fail "export"
# The package travels as one object per group of records; the redeemed
# Bundle merges them, so compare the resources as a set.
diff <(jq -S '[.entry[].resource] | sort' "$got") <(jq -S '[.entry[].resource] | sort' "$work/expected.json") >/dev/null ||
	fail "the specialist's bundle differs in content from the share package"
ok "specialist redeems: $(jq .resources "$work/r1.json") resources, identical in content to the share package"

# --- patient → family (delegable), family → second specialist -------------
link2=$(hw patient grant --to "$(did family)" --category labs --category medications --for 7d --delegable 1 --json | jq -r .link)
hw family redeem "$link2" >/dev/null 2>&1 || fail "family redeem"
ok "patient gives the family member a delegable grant for 7 days; family redeems"
link3=$(hw family delegate "$link2" --to "$(did second)" --for 24h --category labs 2>/dev/null) || fail "delegate"
hw second redeem "$link3" --out "$work/second" --json >"$work/r3.json" 2>&1 || fail "second specialist redeem"
meds=$(jq '[.entry[].resource | select(.resourceType == "MedicationRequest")] | length' "$(jq -r .file "$work/r3.json")")
labs=$(jq '[.entry[].resource | select(.resourceType == "Observation")] | length' "$(jq -r .file "$work/r3.json")")
[ "$meds" = 0 ] && [ "$labs" -gt 0 ] || fail "the labs-only delegate received $meds medications and $labs observations"
ok "family delegates labs to a second specialist for 24 hours; the second specialist redeems $labs observations and no medication"

# --- fault: a grant presented by the wrong wallet --------------------------
out=$(hw family redeem "$link1" 2>&1) && fail "the family member redeemed the specialist's grant"
grep -q "this link is not addressed to this wallet" <<<"$out" || fail "wrong wallet: $out"
ok "the specialist's link presented by the family member's wallet is refused: $out"

# --- revocation through the relay -----------------------------------------
fam=$(hw patient grants --json | jq -r --arg d "$(did family)" '.[] | select(.grantee == $d) | .id')
hw patient revoke "$fam" --relay "$relay" >/dev/null 2>&1 || fail "revoke through the relay"
ok "patient revokes the family grant through the relay"
out=$(hw second redeem "$link3" 2>&1) && fail "the second specialist redeemed after revocation"
grep -q "grant revoked" <<<"$out" || fail "after revocation: $out"
ok "the second specialist's next redeem is refused: $out"
out=$(hw second redeem "$link3" --skip-local-checks 2>&1) && fail "the patient's node served a revoked chain"
grep -q "node refused the grant: grant revoked" <<<"$out" || fail "node after revocation: $out"
ok "the patient's node refuses to serve it too: $out"

# --- the access log -------------------------------------------------------
stop node
log=$(hw patient access --json)
served=$(jq '[.[] | select(.granted)] | length' <<<"$log")
refused=$(jq '[.[] | select(.granted | not)] | length' <<<"$log")
[ "$served" = 3 ] || fail "access log shows $served served redemptions, want 3"
[ "$refused" -ge 1 ] || fail "access log shows no refusal"
ok "the patient's access log lists every redemption: $served served, $refused refused"

# --- fault: patient's node offline ------------------------------------------
out=$(hw specialist redeem "$link1" 2>&1) && fail "redeemed with the patient's node offline"
peer=$(jq -r .peerId "$work/node.out")
grep -q "$peer" <<<"$out" || fail "node offline: $out"
ok "patient's node offline: the error names the peer: $(cut -c1-110 <<<"$out")…"

# --- fault: chain RPC stopped ----------------------------------------------
stop devnet
out=$(hw specialist redeem "$link1" --mirror-max-age 0 2>&1) && fail "redeemed with the chain down"
grep -q "revocation status unknown" <<<"$out" || fail "chain down: $out"
ok "chain RPC stopped: redeem refused, fail closed: $(cut -c1-100 <<<"$out")"

echo "demo: all $step steps behaved as stated"
