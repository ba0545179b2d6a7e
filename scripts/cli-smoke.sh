#!/usr/bin/env bash
# Exercises the real cgo binary's CLI the way a person would: init, whoami,
# a refused second init, restore of a known phrase. Fails loudly on any
# difference.
set -euo pipefail
bin=${1:?usage: cli-smoke.sh BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HW_PASSPHRASE="correct horse battery staple"
# Debian's default locale; fyne must not add log lines to our errors.
export LANG=C.UTF-8

"$bin" --help >/dev/null
"$bin" --home "$tmp/a" init --json >"$tmp/init.json"
did=$(sed -n 's/.*"did": "\(.*\)".*/\1/p' "$tmp/init.json")
[[ $did == did:key:zQ3s* ]] || { echo "init printed no did:key: $(cat "$tmp/init.json")"; exit 1; }
"$bin" --home "$tmp/a" whoami --json | grep -q "\"did\": \"$did\"" || { echo "whoami disagrees with init"; exit 1; }
if "$bin" --home "$tmp/a" init 2>"$tmp/err"; then echo "second init succeeded"; exit 1; fi
grep -q "already exists" "$tmp/err" || { echo "second init: $(cat "$tmp/err")"; exit 1; }
[[ $(wc -l <"$tmp/err") -eq 1 ]] || { echo "error is not one line: $(cat "$tmp/err")"; exit 1; }
echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about" |
	"$bin" --home "$tmp/b" restore | grep -q 0x9858EfFD232B4033E47d90003D41EC34EcaEda94 ||
	{ echo "restore gave the wrong address"; exit 1; }
echo "cli smoke test: ok ($bin)"
