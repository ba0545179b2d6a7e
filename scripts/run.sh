#!/usr/bin/env bash
# make run: open the desktop app with a local chain and a revocation relay
# beside it, on ports the system picks; stop what was started here, and
# remove its logs, when the app closes or the script is interrupted.
#
#   chain  $HW_CHAIN_RPC and $HW_REGISTRY if set (passed on as they are);
#          else the devnet of the devnet file ($HW_DEVNET_FILE, else
#          healthwallet-devnet/devnet.json in the user's configuration
#          directory) if its RPC answers; else a new `healthwallet devnet
#          --port 0`, which rewrites that file. The chain's state lives
#          beside the file, so revocations persist across runs.
#   relay  $HW_RELAY if set; else a new `healthwallet relay` on
#          127.0.0.1:0, checked: it must print its URL and accept
#          connections there.
#
# The app finds them through HW_DEVNET_FILE and HW_RELAY.
# Usage: scripts/run.sh BINARY [ARGS...]   (ARGS go to the app)
set -euo pipefail
bin=${1:?usage: run.sh BINARY [ARGS...]}
shift
[ -x "$bin" ] || { echo "run: no binary at $bin (run make build)" >&2; exit 2; }
command -v jq >/dev/null || { echo "run: needs jq (apt-get install jq)" >&2; exit 2; }

log=$(mktemp -d "${TMPDIR:-/tmp}/healthwallet-run.XXXXXX")
pids=()
# cleanup stops what was started here (SIGTERM; SIGKILL after 10 s) and
# removes the logs. It runs once, on any exit; a second Ctrl-C does not
# cut it short.
cleanup() {
	trap '' INT TERM
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "run: $*" >&2; exit 1; }

# start NAME FIELD CMD...: run a long-lived command in the background and
# wait (60 s at most) for its ready line, a JSON object with FIELD. Fails,
# naming NAME and showing its stderr, if the command exits first or prints
# no such line.
start() {
	local name=$1 field=$2; shift 2
	"$@" >"$log/$name.out" 2>"$log/$name.err" &
	local pid=$!
	pids+=("$pid")
	local deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		[ -s "$log/$name.out" ] && jq -e --arg f "$field" '.[$f] // empty' "$log/$name.out" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$log/$name.err" >&2; fail "$name exited before it was ready"; }
		sleep 0.1
	done
	cat "$log/$name.err" >&2
	fail "$name printed no ready line (JSON with .$field) within 60 s"
}

# up URL: does something accept TCP connections at URL's host:port?
up() {
	local hp=${1#*://}
	hp=${hp%%/*}
	[[ $hp == *:* ]] || return 1
	(exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null
}

# The devnet file `healthwallet devnet` writes by default
# (wallet.DefaultDevnetFile: os.UserConfigDir()/healthwallet-devnet).
default_devnet_file() {
	local dir
	case $(uname -s) in
	Darwin) dir="$HOME/Library/Application Support" ;;
	*) dir=${XDG_CONFIG_HOME:-$HOME/.config} ;;
	esac
	echo "$dir/healthwallet-devnet/devnet.json"
}

if [ -n "${HW_CHAIN_RPC:-}${HW_REGISTRY:-}" ]; then
	echo "chain: ${HW_CHAIN_RPC:-(no HW_CHAIN_RPC)}, registry ${HW_REGISTRY:-(no HW_REGISTRY)} (from the environment)"
else
	file=${HW_DEVNET_FILE:-$(default_devnet_file)}
	if [ -s "$file" ] && rpc=$(jq -er .rpc "$file" 2>/dev/null) && up "$rpc"; then
		echo "devnet: already running at $rpc ($file)"
	else
		start devnet registry "$bin" devnet --port 0 --devnet-file "$file"
		rpc=$(jq -r .rpc "$log/devnet.out")
		up "$rpc" || fail "devnet printed $rpc, but nothing answers there"
		echo "devnet: $(cat "$log/devnet.out")"
	fi
	export HW_DEVNET_FILE=$file
fi

if [ -n "${HW_RELAY:-}" ]; then
	echo "relay: $HW_RELAY (from HW_RELAY)"
else
	start relay url "$bin" relay --listen 127.0.0.1:0
	HW_RELAY=$(jq -r .url "$log/relay.out")
	up "$HW_RELAY" || fail "relay printed $HW_RELAY, but nothing answers there"
	export HW_RELAY
	echo "relay: $(cat "$log/relay.out")"
fi

# The app runs in the background so that a SIGTERM to this script stops it
# too (a foreground child would delay the trap until it exits); it keeps
# the terminal's stdin.
"$bin" "$@" <&0 &
pids+=($!)
status=0
wait "${pids[-1]}" || status=$?
unset 'pids[-1]'
exit "$status"
