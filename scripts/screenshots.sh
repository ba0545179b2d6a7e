#!/usr/bin/env bash
# Screenshots of the real cgo app's main screens, desktop and phone layout,
# taken under Xvfb and written to docs/ (or the directory given).
#
#   scripts/screenshots.sh [OUTDIR]
#
# It builds the app with -tags screenshots (and "screenshots mobile"): that
# build alone unlocks from $HW_PASSPHRASE and opens the screen named by
# $HW_SCREENSHOT (see app/screenshot.go). The wallets shown are made here
# with the CLI, all on a throwaway local devnet: a patient (Darron Feeney,
# a Synthea patient) who has shared with a specialist (who redeemed) and
# with a family member (a grant since revoked, which the family member's
# app then tries to redeem); the family member holds a SMART Health Card.
# Each wallet knows the others by name (app contacts).
#
# Needs: cgo toolchain with GL/X11 headers (and EGL/GLES for the phone
# build), xvfb-run (Debian xvfb), import and convert (ImageMagick), xdotool, jq.
# Nothing is left running; the wallets are deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-docs}")
mkdir -p "$out"
for tool in xvfb-run import convert xdotool jq; do
	command -v "$tool" >/dev/null || { echo "screenshots.sh needs $tool" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

export LANG=C.UTF-8
export HW_PASSPHRASE="correct horse battery staple"
export HW_DEVNET_FILE="$tmp/devnet/devnet.json"

echo "building (cgo)…"
CGO_ENABLED=1 go build -tags screenshots -o "$tmp/hw-desktop" .
CGO_ENABLED=1 go build -tags "screenshots mobile" -o "$tmp/hw-phone" .
hw="$tmp/hw-desktop"

# wait_for FILE: until FILE is non-empty (10 s).
wait_for() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "timed out waiting for $1" >&2
	cat "$1.err" 2>/dev/null >&2 || true
	return 1
}
json() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -1; }

echo "chain, relay and wallets…"
mkdir -p "$tmp/devnet"
"$hw" devnet --port 0 --devnet-file "$HW_DEVNET_FILE" >"$tmp/devnet.out" 2>"$tmp/devnet.out.err" &
pids+=($!)
wait_for "$tmp/devnet.out"
"$hw" relay --listen 127.0.0.1:0 >"$tmp/relay.out" 2>"$tmp/relay.out.err" &
pids+=($!)
wait_for "$tmp/relay.out"
export HW_RELAY
HW_RELAY=$(json url "$tmp/relay.out")

patient="$tmp/patient" specialist="$tmp/specialist" family="$tmp/family"
"$hw" --home "$patient" init --json >"$tmp/patient.json"
"$hw" --home "$specialist" init --json >"$tmp/specialist.json"
"$hw" --home "$family" init --json >"$tmp/family.json"
did() { jq -r .did "$tmp/$1.json"; }
gunzip -c testdata/fhir/synthea/Darron_Feeney_*.json.gz >"$tmp/darron-feeney.json"
"$hw" --home "$patient" import "$tmp/darron-feeney.json" >/dev/null
cp -r wallet/shc/testdata "$family/trust"
"$hw" --home "$family" import wallet/shc/testdata/spec-examples/example-00-e-file.smart-health-card >/dev/null

# Whom each wallet knows by name ($HW_SCREENSHOT_CONTACTS of the app).
contacts_of() {
	case $1 in
	"$patient") printf 'Dr Ana Ruiz=%s\nSam Feeney=%s\n' "$(did specialist)" "$(did family)" ;;
	"$specialist" | "$family") printf 'Darron Feeney=%s\n' "$(did patient)" ;;
	esac
}

"$hw" --home "$patient" node --listen /ip4/127.0.0.1/tcp/0 --json >"$tmp/node.out" 2>"$tmp/node.out.err" &
node=$!
pids+=($node)
wait_for "$tmp/node.out"
link=$("$hw" --home "$patient" grant --to "$(did specialist)" \
	--category labs --category medications --category allergies --for 7d --delegable 1 2>/dev/null)
"$hw" --home "$specialist" redeem "$link" >/dev/null 2>&1
"$hw" --home "$patient" grant --to "$(did family)" --category immunizations --category labs --for 24h --json >"$tmp/family-grant.json" 2>/dev/null
family_link=$(jq -r .link "$tmp/family-grant.json")
"$hw" --home "$patient" revoke "$(jq -r .id "$tmp/family-grant.json")" >/dev/null 2>&1
kill "$node"
wait "$node" 2>/dev/null || true

# shot LAYOUT HOME SCREEN: photograph one screen. The desktop build opens a
# 1000x700 window. The phone build (-tags mobile) runs in fyne's X11 debug
# shell, which waits for a ConfigureNotify before drawing; with no window
# manager under Xvfb, xdotool's resize provides it, and makes the window
# phone-shaped: 390x780 points at scale 2, saved at 390x780 pixels. A
# black frame (the window came up too late on a loaded machine) is taken
# again, once.
shot() {
	local layout=$1 home=$2 screen=$3 file="$1-$3.png"
	local bin="$tmp/hw-desktop" geometry=1000x700 resize=100%
	if [ "$layout" = phone ]; then bin="$tmp/hw-phone" geometry=780x1560 resize=50%; fi
	for attempt in 1 2; do
		HW_SCREENSHOT=$screen HW_SCREENSHOT_TO=$(did family) HW_SCREENSHOT_LINK=$family_link \
			HW_SCREENSHOT_CONTACTS=$(contacts_of "$home") FYNE_SCALE=$([ "$layout" = phone ] && echo 2 || echo 1) \
			xvfb-run -a -s "-screen 0 ${geometry}x24" bash -c '
				"$0" --home "$1" >"$3.log" 2>&1 &
				app=$!
				if [ "$4" = phone ]; then
					for _ in $(seq 200); do wid=$(xdotool search --name "^App$" 2>/dev/null | head -1) && [ -n "$wid" ] && break; sleep 0.1; done
					xdotool windowsize "$wid" 780 1560
				fi
				sleep 8
				import -window root -resize "$5" -strip "$2"
				kill $app
				sleep 1
				kill -9 $app 2>/dev/null || true
				wait $app 2>/dev/null || true
			' "$bin" "$home" "$out/$file" "$tmp/$file" "$layout" "$resize"
		[ "$(convert "$out/$file" -format '%[fx:mean>0]' info:)" = 1 ] && break
		echo "  $out/$file is black (attempt $attempt)" >&2
	done
	echo "  $out/$file"
}

echo "screenshots…"
for layout in desktop phone; do
	shot $layout "$tmp/new" welcome
	shot $layout "$patient" unlock
	shot $layout "$patient" summary
	shot $layout "$patient" records
	shot $layout "$patient" medication
	shot $layout "$patient" result
	shot $layout "$family" detail
	shot $layout "$patient" share-form
	shot $layout "$patient" share
	shot $layout "$patient" shared-by-me
	shot $layout "$specialist" shared-with-me
	shot $layout "$specialist" received
	shot $layout "$family" refusal
	shot $layout "$patient" settings
done
