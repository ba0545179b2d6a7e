#!/usr/bin/env bash
# make run: start a local devnet and a revocation relay (unless already up),
# then open the desktop app; stop what was started when the app closes.
set -euo pipefail
bin=${1:?usage: run.sh BINARY [ARGS...]}
shift
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

up() { # up HOST:PORT — is something listening?
	(exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null
}

log=$(mktemp -d)
if ! up 127.0.0.1:8545; then
	"$bin" devnet >"$log/devnet.out" 2>"$log/devnet.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$log/devnet.out" ] && break; sleep 0.1; done
	[ -s "$log/devnet.out" ] || { echo "devnet did not start:"; cat "$log/devnet.err"; exit 1; }
	echo "devnet: $(cat "$log/devnet.out")"
fi
if ! up 127.0.0.1:4190; then
	"$bin" relay >"$log/relay.out" 2>"$log/relay.err" &
	pids+=($!)
	for _ in $(seq 50); do [ -s "$log/relay.out" ] && break; sleep 0.1; done
	echo "relay: $(cat "$log/relay.out" 2>/dev/null)"
fi
"$bin" "$@"
