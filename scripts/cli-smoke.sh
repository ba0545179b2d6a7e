#!/usr/bin/env bash
# Exercises the real cgo binary's CLI the way a person would: init, whoami,
# a refused second init, restore of a known phrase. Fails loudly on any
# difference. JSON output is read with jq, field by field.
set -euo pipefail
bin=${1:?usage: cli-smoke.sh BINARY}
command -v jq >/dev/null || { echo "cli-smoke: needs jq (apt-get install jq)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HW_PASSPHRASE="correct horse battery staple"
# Debian's default locale; fyne must not add log lines to our errors.
export LANG=C.UTF-8

# field FILE FILTER: jq -r FILTER of FILE; fails if it is missing, null or empty.
field() {
	local v
	v=$(jq -er "$2" "$1") && [ -n "$v" ] || { echo "no $2 in $(basename "$1"): $(cat "$1")" >&2; return 1; }
	printf '%s\n' "$v"
}

"$bin" --help >/dev/null
"$bin" --home "$tmp/a" init --json >"$tmp/init.json"
did=$(field "$tmp/init.json" .did)
addr=$(field "$tmp/init.json" .address)
[[ $did == did:key:zQ3s* ]] || { echo "init printed no secp256k1 did:key: $did"; exit 1; }
words=$(field "$tmp/init.json" '.recoveryPhrase | split(" ") | length')
[[ $words == 24 ]] || { echo "init printed a recovery phrase of $words words, want 24"; exit 1; }
"$bin" --home "$tmp/a" whoami --json >"$tmp/whoami.json"
[[ $(field "$tmp/whoami.json" .did) == "$did" && $(field "$tmp/whoami.json" .address) == "$addr" ]] ||
	{ echo "whoami disagrees with init: $(cat "$tmp/whoami.json")"; exit 1; }
if "$bin" --home "$tmp/a" init 2>"$tmp/err"; then echo "second init succeeded"; exit 1; fi
grep -q "already exists" "$tmp/err" || { echo "second init: $(cat "$tmp/err")"; exit 1; }
[[ $(wc -l <"$tmp/err") -eq 1 ]] || { echo "error is not one line: $(cat "$tmp/err")"; exit 1; }
echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about" |
	"$bin" --home "$tmp/b" restore --json >"$tmp/restore.json"
[[ $(field "$tmp/restore.json" .address) == 0x9858EfFD232B4033E47d90003D41EC34EcaEda94 ]] ||
	{ echo "restore gave the wrong address: $(cat "$tmp/restore.json")"; exit 1; }
echo "cli smoke test: ok ($bin)"
